;; A CAM's way to the screen with WebAssembly SIMD, bit for bit the JavaScript it replaces: the
;; bilinear upsampling of a map (src/image/upsample.ts, float32 at each step) fused with its colormap
;; indices (src/render/colormaps.ts: floor(255·m) clamped to 0..255, NaN → 0), the overlay blend by
;; table (src/render/overlay.ts) and PNG's Sub filter (src/render/png-node.ts). Assembled by
;; scripts/build-wasm.ts (wabt's wat2wasm) into map-bytes.ts. Every pointer is a byte offset into the
;; exported memory; the caller leaves 64 spare bytes after each region (whole vectors are read and
;; written past a row's end).
(module
  (memory (export "memory") 1)

  ;; The horizontal pass of one channel: for each of the sh source rows of sw floats at src, width
  ;; outputs tmp[y·width + x] = src[y·sw + i0[x]]·a0[x] + src[y·sw + i1[x]]·a1[x], each product and
  ;; the sum rounded to float32 (i0, i1: int32 source columns; a0, a1: float32 weights).
  (func (export "horizontal1")
    (param $src i32) (param $sw i32) (param $sh i32) (param $width i32)
    (param $i0 i32) (param $i1 i32) (param $a0 i32) (param $a1 i32) (param $tmp i32)
    (local $y i32) (local $x i32) (local $row i32) (local $o i32) (local $k i32)
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $sh)))
      (local.set $row (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $sw)) (i32.const 2))))
      (local.set $o (i32.add (local.get $tmp) (i32.shl (i32.mul (local.get $y) (local.get $width)) (i32.const 2))))
      (local.set $x (i32.const 0))
      (block $rowDone (loop $row
        (br_if $rowDone (i32.ge_u (local.get $x) (local.get $width)))
        (local.set $k (i32.shl (local.get $x) (i32.const 2)))
        (f32.store (i32.add (local.get $o) (local.get $k))
          (f32.add
            (f32.mul
              (f32.load (i32.add (local.get $row) (i32.shl (i32.load (i32.add (local.get $i0) (local.get $k))) (i32.const 2))))
              (f32.load (i32.add (local.get $a0) (local.get $k))))
            (f32.mul
              (f32.load (i32.add (local.get $row) (i32.shl (i32.load (i32.add (local.get $i1) (local.get $k))) (i32.const 2))))
              (f32.load (i32.add (local.get $a1) (local.get $k))))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $row)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows)))
  )

  ;; Four float32 values of the vertical pass as colormap indices in int32 lanes:
  ;; trunc_sat(255·(t0·w0 + t1·w1)), which is floor(255·m) for m in (0, 1), ≥ 255 from m = 1 up (+∞
  ;; included), ≤ 0 for m ≤ 0 and 0 for NaN; the unsigned narrows that follow clamp to 0..255.
  (func $index4 (param $t0 v128) (param $t1 v128) (param $w0 v128) (param $w1 v128) (result v128)
    (i32x4.trunc_sat_f32x4_s
      (f32x4.mul (f32x4.splat (f32.const 255))
        (f32x4.add (f32x4.mul (local.get $t0) (local.get $w0)) (f32x4.mul (local.get $t1) (local.get $w1)))))
  )

  ;; Output rows [y0, y1) of the vertical pass as colormap indices, `len` bytes a row, row y at
  ;; out + (y − y0)·len: out[x] = index(tmp[r0[y] + x]·b0[y] + tmp[r1[y] + x]·b1[y]) (r0, r1: int32
  ;; element offsets into tmp; b0, b1: float32 weights), 16 at a time. A row's last vector runs into
  ;; the next row, which is written after it.
  (func (export "indexRows")
    (param $tmp i32) (param $r0 i32) (param $r1 i32) (param $b0 i32) (param $b1 i32)
    (param $y0 i32) (param $y1 i32) (param $len i32) (param $out i32)
    (local $y i32) (local $x i32) (local $p0 i32) (local $p1 i32) (local $w0 v128) (local $w1 v128) (local $o i32)
    (local.set $y (local.get $y0))
    (local.set $o (local.get $out))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $y1)))
      (local.set $p0 (i32.add (local.get $tmp)
        (i32.shl (i32.load (i32.add (local.get $r0) (i32.shl (local.get $y) (i32.const 2)))) (i32.const 2))))
      (local.set $p1 (i32.add (local.get $tmp)
        (i32.shl (i32.load (i32.add (local.get $r1) (i32.shl (local.get $y) (i32.const 2)))) (i32.const 2))))
      (local.set $w0 (v128.load32_splat (i32.add (local.get $b0) (i32.shl (local.get $y) (i32.const 2)))))
      (local.set $w1 (v128.load32_splat (i32.add (local.get $b1) (i32.shl (local.get $y) (i32.const 2)))))
      (local.set $x (i32.const 0))
      (block $rowDone (loop $row
        (br_if $rowDone (i32.ge_u (local.get $x) (local.get $len)))
        (v128.store (i32.add (local.get $o) (local.get $x))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s
              (call $index4 (v128.load (local.get $p0)) (v128.load (local.get $p1)) (local.get $w0) (local.get $w1))
              (call $index4 (v128.load offset=16 (local.get $p0)) (v128.load offset=16 (local.get $p1)) (local.get $w0) (local.get $w1)))
            (i16x8.narrow_i32x4_s
              (call $index4 (v128.load offset=32 (local.get $p0)) (v128.load offset=32 (local.get $p1)) (local.get $w0) (local.get $w1))
              (call $index4 (v128.load offset=48 (local.get $p0)) (v128.load offset=48 (local.get $p1)) (local.get $w0) (local.get $w1)))))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 64)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 64)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $row)))
      (local.set $o (i32.add (local.get $o) (local.get $len)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows)))
  )

  ;; The overlay of n RGB pixels by table: out[3i + c] = table[768·idx[i] + 256·c + data[3i + c]].
  (func (export "blendRgb")
    (param $idx i32) (param $data i32) (param $table i32) (param $out i32) (param $n i32)
    (local $i i32) (local $k i32) (local $p i32) (local $end i32)
    (local.set $end (i32.add (local.get $idx) (local.get $n)))
    (block $done (loop $pixels
      (br_if $done (i32.ge_u (local.get $idx) (local.get $end)))
      (local.set $k (i32.add (local.get $table) (i32.mul (i32.load8_u (local.get $idx)) (i32.const 768))))
      (i32.store8 (local.get $out) (i32.load8_u (i32.add (local.get $k) (i32.load8_u (local.get $data)))))
      (i32.store8 offset=1 (local.get $out)
        (i32.load8_u offset=256 (i32.add (local.get $k) (i32.load8_u offset=1 (local.get $data)))))
      (i32.store8 offset=2 (local.get $out)
        (i32.load8_u offset=512 (i32.add (local.get $k) (i32.load8_u offset=2 (local.get $data)))))
      (local.set $idx (i32.add (local.get $idx) (i32.const 1)))
      (local.set $data (i32.add (local.get $data) (i32.const 3)))
      (local.set $out (i32.add (local.get $out) (i32.const 3)))
      (br $pixels)))
  )

  ;; PNG's Sub filter on `rows` rows of `width` bytes: each output row is the filter type 1 and then
  ;; byte x minus byte x − 1 (mod 256; byte −1 is 0), 16 bytes at a time, into dst (width + 1 a row).
  (func (export "subFilterRows")
    (param $src i32) (param $width i32) (param $rows i32) (param $dst i32)
    (local $y i32) (local $x i32) (local $s i32) (local $d i32) (local $prev v128) (local $v v128)
    (local.set $s (local.get $src))
    (local.set $d (local.get $dst))
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
      (i32.store8 (local.get $d) (i32.const 1))
      (local.set $prev (v128.const i64x2 0 0))
      (local.set $x (i32.const 0))
      (block $rowDone (loop $row
        (br_if $rowDone (i32.ge_u (local.get $x) (local.get $width)))
        (local.set $v (v128.load (i32.add (local.get $s) (local.get $x))))
        ;; bytes x − 1 .. x + 14: the previous vector's last byte, then this one's first fifteen.
        (v128.store offset=1 (i32.add (local.get $d) (local.get $x))
          (i8x16.sub (local.get $v)
            (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $prev) (local.get $v))))
        (local.set $prev (local.get $v))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $row)))
      (local.set $s (i32.add (local.get $s) (local.get $width)))
      (local.set $d (i32.add (local.get $d) (i32.add (local.get $width) (i32.const 1))))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rowLoop)))
  )
)

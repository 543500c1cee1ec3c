;; The two passes of Pillow's bilinear resize (src/image/resize.ts) for 8-bit pixels, with WebAssembly
;; SIMD: bit for bit the same integer arithmetic (22-bit fixed-point weights, + ½ before the shift,
;; clip to 0..255). Assembled by scripts/build-wasm.ts (wabt's wat2wasm) into resize-bytes.ts.
;; Every pointer is a byte offset into the exported memory; the caller leaves 16 spare bytes after
;; each input and output region (the kernels read and write whole 16-byte or 4-byte chunks).
(module
  (memory (export "memory") 1)

  ;; One RGB row, horizontally: for each output pixel xx, with (xmin, n) = bounds[xx] and the n weights
  ;; kk[xx·ksize ..]: out[3xx + c] = clip8((½ + Σ src[3(xmin + x) + c] · kk[x]) >> 22). Four bytes are
  ;; loaded per tap (R, G, B and the next pixel's R, whose lane is discarded) and four stored per
  ;; pixel (the fourth overwritten by the next pixel).
  (func (export "horizontalRow3")
    (param $src i32) (param $outW i32) (param $kk i32) (param $ksize i32) (param $bounds i32) (param $out i32)
    (local $xx i32) (local $n i32) (local $x i32) (local $p i32) (local $k i32) (local $b i32) (local $acc v128)
    (block $done (loop $pixels
      (br_if $done (i32.ge_u (local.get $xx) (local.get $outW)))
      (local.set $b (i32.add (local.get $bounds) (i32.shl (local.get $xx) (i32.const 3))))
      (local.set $p (i32.add (local.get $src) (i32.mul (i32.load (local.get $b)) (i32.const 3))))
      (local.set $n (i32.load offset=4 (local.get $b)))
      (local.set $k (i32.add (local.get $kk) (i32.shl (i32.mul (local.get $xx) (local.get $ksize)) (i32.const 2))))
      (local.set $acc (i32x4.splat (i32.const 2097152)))
      (local.set $x (i32.const 0))
      (block $tapsDone (loop $taps
        (br_if $tapsDone (i32.ge_u (local.get $x) (local.get $n)))
        (local.set $acc
          (i32x4.add (local.get $acc)
            (i32x4.mul
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
              (i32x4.splat (i32.load (local.get $k))))))
        (local.set $p (i32.add (local.get $p) (i32.const 3)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $taps)))
      ;; acc >> 22, then saturating narrows: below 0 → 0, 256 and above → 255 (clip8).
      (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
      (v128.store32_lane 0 (i32.add (local.get $out) (i32.mul (local.get $xx) (i32.const 3)))
        (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)) (local.get $acc)))
      (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
      (br $pixels)))
  )

  ;; One output row, vertically: the n rows of `len` bytes from `src` (consecutive), weighted by the
  ;; n weights at kk: out[i] = clip8((½ + Σ_y src[y·len + i] · kk[y]) >> 22), 16 bytes at a time
  ;; (acc: 4·len rounded up to 64 bytes of scratch).
  (func (export "verticalRow")
    (param $src i32) (param $len i32) (param $n i32) (param $kk i32) (param $acc i32) (param $out i32)
    (local $i i32) (local $y i32) (local $k v128) (local $p i32) (local $a i32) (local $v v128) (local $lo v128) (local $hi v128)
    (block $initDone (loop $init
      (br_if $initDone (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))))
      (v128.store (local.get $a) (i32x4.splat (i32.const 2097152)))
      (v128.store offset=16 (local.get $a) (i32x4.splat (i32.const 2097152)))
      (v128.store offset=32 (local.get $a) (i32x4.splat (i32.const 2097152)))
      (v128.store offset=48 (local.get $a) (i32x4.splat (i32.const 2097152)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $init)))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $n)))
      (local.set $k (i32x4.splat (i32.load (i32.add (local.get $kk) (i32.shl (local.get $y) (i32.const 2))))))
      (local.set $p (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $len))))
      (local.set $i (i32.const 0))
      (block $rowDone (loop $row
        (br_if $rowDone (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))))
        (v128.store (local.get $a)
          (i32x4.add (v128.load (local.get $a)) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $k))))
        (v128.store offset=16 (local.get $a)
          (i32x4.add (v128.load offset=16 (local.get $a)) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $k))))
        (v128.store offset=32 (local.get $a)
          (i32x4.add (v128.load offset=32 (local.get $a)) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $k))))
        (v128.store offset=48 (local.get $a)
          (i32x4.add (v128.load offset=48 (local.get $a)) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $k))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $row)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows)))
    (local.set $i (i32.const 0))
    (block $outDone (loop $outs
      (br_if $outDone (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $i) (i32.const 2))))
      (v128.store (i32.add (local.get $out) (local.get $i))
        (i8x16.narrow_i16x8_u
          (i16x8.narrow_i32x4_s
            (i32x4.shr_s (v128.load (local.get $a)) (i32.const 22))
            (i32x4.shr_s (v128.load offset=16 (local.get $a)) (i32.const 22)))
          (i16x8.narrow_i32x4_s
            (i32x4.shr_s (v128.load offset=32 (local.get $a)) (i32.const 22))
            (i32x4.shr_s (v128.load offset=48 (local.get $a)) (i32.const 22)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $outs)))
  )
)

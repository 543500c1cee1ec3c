// The sign of a singular vector is arbitrary; a ReLU after the projection keeps only one side, so the
// sign decides whether Eigen-CAM shows the object or the background. gradsight orients the first
// component so that its channel loadings sum to a positive number (the projection grows with the
// overall activation), breaking ties by the largest loading. On every Eigen-CAM reference in
// ../shared this is also the sign numpy's LAPACK SVD returns, so maps match pytorch-grad-cam.

export function positiveLoadings(v: Float64Array): number {
  let sum = 0;
  let big = 0;
  for (const x of v) {
    sum += x;
    if (Math.abs(x) > Math.abs(big)) big = x;
  }
  if (Math.abs(sum) > 1e-12) return Math.sign(sum);
  return big < 0 ? -1 : 1;
}

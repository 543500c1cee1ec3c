// Small text formatting helpers shared by the commands.

export function formatShape(shape: readonly (number | string | null)[] | null | undefined): string {
  if (!shape) return '[?]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(x >= 0.0995 ? 1 : 2)}%`;
}

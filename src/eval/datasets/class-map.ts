// Maps dataset class names to model output indices (stub: the real matcher lands next).

export interface ClassMap {
  /** Where the map came from (a file path, or 'voc-imagenet' for a shipped map), for messages. */
  readonly source: string;
  /** dataset class -> model labels (a full label or one of its synonyms) or output indices. */
  readonly entries: Readonly<Record<string, readonly (string | number)[]>>;
}

/** Reads a class map JSON file, or a shipped one by name ('voc-imagenet'). */
export function loadClassMap(pathOrName: string): ClassMap {
  throw new Error(`not implemented: ${pathOrName}`);
}

/**
 * dataset class -> model output indices. A class equal to a label or one of its comma-separated
 * synonyms maps directly; a class-map entry overrides that; an empty entry maps to no class on purpose.
 */
export function mapClasses(
  classes: readonly string[],
  labels: readonly string[],
  classMap?: string | ClassMap,
): Map<string, number[]> {
  throw new Error(`not implemented: ${classes.length} ${labels.length} ${String(classMap)}`);
}

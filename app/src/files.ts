// Getting files into the page: the query string (?model=URL&image=URL...), demo models, file pickers
// and drag and drop (folders included). Only the page's own origin is fetched; the CSP refuses others.

/** What the query string asks for. */
export interface QueryPlan {
  readonly model?: string;
  readonly images: readonly string[];
  readonly methods?: readonly string[];
  readonly target?: string;
  readonly counterfactual: boolean;
  readonly layer?: string;
  readonly question?: string;
  readonly caption?: string;
  readonly backend: string;
}

export function readQuery(search: string): QueryPlan {
  const q = new URLSearchParams(search);
  const methods = q
    .getAll('method')
    .flatMap((m) => m.split(','))
    .filter(Boolean);
  return {
    ...(q.get('model') ? { model: q.get('model')! } : {}),
    images: q.getAll('image').filter(Boolean),
    ...(methods.length ? { methods } : {}),
    ...(q.get('target') ? { target: q.get('target')! } : {}),
    counterfactual: ['1', 'true', 'yes'].includes(q.get('counterfactual') ?? ''),
    ...(q.get('layer') ? { layer: q.get('layer')! } : {}),
    ...(q.get('question') ? { question: q.get('question')! } : {}),
    ...(q.get('caption') ? { caption: q.get('caption')! } : {}),
    backend: q.get('backend') ?? 'auto',
  };
}

/** Fetches a file of the app's origin as a File named after its last path segment. */
export async function fetchFile(url: string, optional = false): Promise<File | undefined> {
  const u = new URL(url, location.href);
  let res: Response;
  try {
    res = await fetch(u);
  } catch (e) {
    throw new Error(
      `cannot fetch ${url}: ${e instanceof Error ? e.message : String(e)} (only this page's own origin can be fetched)`,
    );
  }
  if (!res.ok) {
    if (optional) return undefined;
    throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  }
  const name = decodeURIComponent(u.pathname.split('/').pop() || 'file');
  return new File([await res.blob()], name);
}

/** A model by URL with the side files a model folder holds beside it (absent ones are skipped). */
export async function fetchModelFiles(url: string): Promise<File[]> {
  const model = await fetchFile(url);
  const side = (name: string) => fetchFile(new URL(name, new URL(url, location.href)).href, true);
  const [preprocess, labels] = await Promise.all([side('preprocess.json'), side('labels.txt')]);
  const files = [model!, ...(preprocess ? [preprocess] : []), ...(labels ? [labels] : [])];
  // A captioning/VQA description names its vocabulary and answers files.
  if (preprocess) {
    const description = JSON.parse(await preprocess.text().catch(() => '{}')) as Record<string, unknown>;
    for (const key of ['vocabulary', 'answers']) {
      const f = typeof description[key] === 'string' ? await side(description[key] as string) : undefined;
      if (f) files.push(f);
    }
  }
  return files;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|avif|tiff?)$/i;

/** Splits picked or dropped files into a model (any .onnx among them), images, and the rest. */
export function splitFiles(files: readonly File[]): { model?: File[]; images: File[]; other: File[] } {
  const isImage = (f: File) => f.type.startsWith('image/') || IMAGE_EXT.test(f.name);
  const images = files.filter(isImage);
  const rest = files.filter((f) => !isImage(f));
  // A model folder: everything but its images is a side file of the model.
  if (rest.some((f) => f.name.toLowerCase().endsWith('.onnx'))) return { model: rest, images, other: [] };
  return { images, other: rest };
}

/** The files of a drop, folders walked (webkitGetAsEntry). */
export async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (!entries.length) return [...dt.files];
  const out: File[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) {
      out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const c of batch) await walk(c);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

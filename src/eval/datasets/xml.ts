// A small XML reader for annotation files (PASCAL VOC): elements, text, comments, CDATA, the five
// named entities and numeric ones. Attributes are skipped (VOC uses none). Malformed XML (an unclosed
// or mismatched tag, text outside the root) throws with the line, so the caller can name the file.

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's own text (children's text excluded), entities decoded, trimmed. */
  text: string;
}

export class XmlSyntaxError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string, fail: (why: string) => never): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);|&/gi, (all, e: string | undefined) => {
    if (e === undefined) fail('a bare "&" (write &amp;)');
    if (e[0] === '#')
      return String.fromCodePoint(
        Number.parseInt(e[1] === 'x' ? e.slice(2) : e.slice(1), e[1] === 'x' ? 16 : 10),
      );
    const v = ENTITIES[e];
    if (v === undefined) fail(`the unknown entity ${all}`);
    return v;
  });
}

export function parseXml(text: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    const line = text.slice(0, at).split('\n').length;
    throw new XmlSyntaxError(`bad XML at line ${line}: ${why}`);
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let pendingText = '';
  const flushText = () => {
    const top = stack[stack.length - 1];
    if (top) top.text += decodeEntities(pendingText, fail);
    else if (pendingText.trim() !== '')
      fail(`text outside the root element ("${pendingText.trim().slice(0, 20)}")`);
    pendingText = '';
  };
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    if (lt < 0) {
      pendingText += text.slice(at);
      at = text.length;
      break;
    }
    pendingText += text.slice(at, lt);
    at = lt;
    const skipTo = (end: string, what: string) => {
      const e = text.indexOf(end, at);
      if (e < 0) fail(`an unterminated ${what}`);
      const inner = text.slice(at, e);
      at = e + end.length;
      return inner;
    };
    if (text.startsWith('<!--', at)) skipTo('-->', 'comment');
    else if (text.startsWith('<![CDATA[', at)) {
      flushText();
      const inner = skipTo(']]>', 'CDATA section').slice('<![CDATA['.length);
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element');
      else top.text += inner;
    } else if (text.startsWith('<?', at)) skipTo('?>', 'processing instruction');
    else if (text.startsWith('<!', at)) skipTo('>', 'declaration');
    else {
      flushText();
      const tag = skipTo('>', 'tag').slice(1);
      const closing = tag.startsWith('/');
      const selfClosing = tag.endsWith('/');
      const name = /^\/?\s*([A-Za-z_][\w.:-]*)/.exec(tag)?.[1];
      if (name === undefined) fail(`a malformed tag <${tag.slice(0, 20)}>`);
      if (closing) {
        const open = stack.pop();
        if (!open) fail(`a closing </${name}> with no open element`);
        else if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
        if (open) open.text = open.text.trim();
        if (stack.length === 0) root = open;
      } else {
        if (root) fail(`a second root element <${name}>`);
        const el: XmlElement = { name: name as string, children: [], text: '' };
        stack[stack.length - 1]?.children.push(el);
        if (selfClosing) {
          if (stack.length === 0) root = el;
        } else stack.push(el);
      }
    }
  }
  flushText();
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) fail('no root element');
  return root as XmlElement;
}

/** The first child named `name`, or undefined. */
export const child = (el: XmlElement, name: string): XmlElement | undefined =>
  el.children.find((c) => c.name === name);

export const childrenNamed = (el: XmlElement, name: string): XmlElement[] =>
  el.children.filter((c) => c.name === name);

/**
 * A small well-formedness check for the SVG the report writes (no XML library in the repo):
 * one root element, tags nested and closed in order, attributes quoted and not repeated, no
 * `<` in attribute values, and every `&` the start of a known entity or a character reference.
 * Returns the elements in document order (name + attributes) for further assertions.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Text directly inside the element, entities left as written. */
  text: string;
}

const NAME = '[A-Za-z_][A-Za-z0-9_:.-]*';
const ATTRIBUTE = new RegExp(`\\s+(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'y');
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;

function checkEntities(text: string, where: string): void {
  for (let at = text.indexOf('&'); at >= 0; at = text.indexOf('&', at + 1)) {
    ENTITY.lastIndex = at;
    if (!ENTITY.test(text)) throw new Error(`${where}: bare & at ${text.slice(at, at + 12)}`);
  }
}

export function parseXml(text: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let rootSeen = false;
  let i = 0;
  if (text.startsWith('<?xml')) i = text.indexOf('?>') + 2;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (stack.length === 0 && chunk.trim() !== '')
      throw new Error(`text outside the root: ${chunk}`);
    checkEntities(chunk, 'text');
    const open = stack[stack.length - 1];
    if (open) open.text += chunk;
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('</', lt)) {
      const end = text.indexOf('>', lt);
      const name = text.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== name)
        throw new Error(`</${name}> closes <${top?.name ?? '(none)'}>`);
      i = end + 1;
      continue;
    }
    const nameMatch = new RegExp(NAME, 'y');
    nameMatch.lastIndex = lt + 1;
    const name = nameMatch.exec(text)?.[0];
    if (!name) throw new Error(`bad tag at ${text.slice(lt, lt + 20)}`);
    let at = lt + 1 + name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      ATTRIBUTE.lastIndex = at;
      const m = ATTRIBUTE.exec(text);
      if (!m) break;
      const [, key, double, single] = m as unknown as [string, string, string?, string?];
      const value = double ?? single ?? '';
      if (key in attributes) throw new Error(`<${name}> repeats ${key}`);
      if (value.includes('<')) throw new Error(`<${name} ${key}> contains <`);
      checkEntities(value, `<${name} ${key}>`);
      attributes[key] = value;
      at = ATTRIBUTE.lastIndex;
    }
    const rest = /\s*(\/?)>/y;
    rest.lastIndex = at;
    const close = rest.exec(text);
    if (!close) throw new Error(`<${name}>: malformed at ${text.slice(at, at + 30)}`);
    if (stack.length === 0) {
      if (rootSeen) throw new Error(`second root element <${name}>`);
      rootSeen = true;
    }
    const element: XmlElement = { name, attributes, text: '' };
    elements.push(element);
    if (close[1] !== '/') stack.push(element);
    i = rest.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.map((e) => e.name).join('> <')}>`);
  if (!rootSeen) throw new Error('no root element');
  return elements;
}

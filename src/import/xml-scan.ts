// A fast XML scanner for record-shaped feeds (the AAF `ficAlimMENESR` files: tens of MB of small elements), about
// ten times saxes' speed on them. It reads decoded string pieces with indexOf, checks well-formedness as it goes and
// hands the same events saxes would (start tag, text, CDATA, end tag) to the caller's handler. It only knows a
// subset of XML; on anything outside it, and on any error, it stops with XmlScanFallback and the caller reads the
// file again with saxes (which accepts every well-formed document and words the errors: file, line, detail).
//
// Supported: a prolog (XML 1.0 declaration, comments, processing instructions, a DOCTYPE without internal subset;
// checked by saxes itself), elements with ASCII names, quoted attributes whose values hold neither `&`, `<`, tab nor
// line break, text with the five predefined entities and character references, CDATA sections, comments. Line
// breaks: CR LF and lone CR read as LF (XML 1.0 §2.11), as saxes does.
// Falls back on: any error saxes reports, a non-ASCII or namespaced-odd name, processing instructions inside the
// document, a DOCTYPE with an internal subset (its entities), XML 1.1, characters outside XML 1.0's Char or U+FFFD
// (a decoding error, worded by the saxes path), a single construct longer than MAX_CARRY.
import { SaxesParser } from 'saxes';

/** What a reader of events implements (the AAF reader, src/import/aaf.ts); the same calls whichever parser reads. */
export interface XmlEvents {
  /**
   * A start tag. `attrs` is `[name, value, name, value…]`, valid during the call only. `line()` is the line of the
   * tag's `>` (1-based), as saxes' `parser.line` when it emits `opentag`; call it only when needed (it counts).
   */
  open(name: string, attrs: readonly string[], line: () => number): void;
  /** Character data, entities resolved, line breaks normalised; one stretch of text may come in several calls. */
  text(t: string): void;
  cdata(t: string): void;
  /** An end tag (also sent right after `open` for an empty-element tag `<x/>`). */
  close(name: string): void;
  /**
   * Optional: the children of the root written `<wholeName>` (no attribute) are first handed whole to `whole`:
   * `text` runs from their `<` to the first `</wholeName>` that follows, line breaks normalised, `line` is what `open`
   * would get. Returning true skips the element (no events for it; the caller vouches that it is well-formed),
   * false reads it as usual. Only this scanner calls it (saxes gives no element's text).
   */
  readonly wholeName?: string;
  whole?(text: string, line: number): boolean;
}

/** The scanner met something it does not handle (or an error): read the file with saxes instead. */
export class XmlScanFallback extends Error {
  constructor(readonly reason: string) {
    super(`xml scan fallback: ${reason}`);
  }
}

/** A construct (text, tag, comment) longer than this is left to saxes rather than re-scanned piece after piece. */
const MAX_CARRY = 4 << 20;

// Characters XML 1.0 forbids (Char production) and U+FFFD (an undecodable byte, which the saxes path reports as
// xmlBadEncoding). Unpaired surrogates, the other characters it forbids, never come out of a UTF-8 or single-byte
// decoder; UTF-16 files are left to saxes (see XmlScanner.write).
const BAD_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFD-\uFFFF]/;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const EQ = 0x3d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const AMP = 0x26;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
const isNameStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
const isNameChar = (c: number) => isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const INTERN_SLOTS = 1024;
/** Longer attribute values are sliced as they come (they are rarely repeated). */
const INTERN_MAX = 48;

/** XML 1.0 Char of a character reference (saxes' isChar10). */
const isXmlChar = (cp: number) => cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/**
 * Scans a document given in decoded pieces (`write`, then `end`), calling `events` as saxes would. A piece may cut
 * anything anywhere: what is not complete is kept for the next piece. Throws XmlScanFallback (possibly after some
 * events: the caller reads again with saxes and skips what it already took).
 */
export class XmlScanner {
  private s = '';
  /** Line of position 0 of `s`. */
  private lineBase = 1;
  private countedPos = 0;
  private countedLine = 1;
  /** Position of the `>` of the tag being reported (for `line`). */
  private at = 0;
  private nextAmp = -1;
  private nextCdEnd = -1;
  private readonly stack: string[] = [];
  private readonly attrs: string[] = [];
  /** 0: prolog, 1: in the root element, 2: after it. */
  private phase = 0;
  private pendingCr = false;
  /** Tag names and short attribute values seen, by a hash of their characters (see `intern`). */
  private readonly interned: (string | undefined)[] = new Array(INTERN_SLOTS);

  /** `<wholeName>` and `</wholeName>` (XmlEvents.whole), when the handler takes elements whole. */
  private readonly wholeOpen?: string;
  private readonly wholeClose?: string;

  constructor(private readonly events: XmlEvents) {
    if (events.wholeName && events.whole) {
      this.wholeOpen = `<${events.wholeName}>`;
      this.wholeClose = `</${events.wholeName}>`;
    }
  }

  /** Line of the current tag's `>`, counted on demand from the last counted position. */
  readonly line = (): number => this.countLines();

  private countLines(): number {
    const { s, at } = this;
    let p = this.countedPos;
    let l = this.countedLine;
    for (;;) {
      const nl = s.indexOf('\n', p);
      if (nl < 0 || nl >= at) break;
      l++;
      p = nl + 1;
    }
    this.countedPos = at;
    this.countedLine = l;
    return l;
  }

  write(piece: string): void {
    if (BAD_CHARS.test(piece)) throw new XmlScanFallback('character');
    let s = this.s.length ? this.s + piece : piece;
    if (this.pendingCr || piece.includes('\r')) {
      // A CR at the end may be the first half of CR LF: wait for the next piece.
      this.pendingCr = s.charCodeAt(s.length - 1) === 0x0d;
      if (this.pendingCr) s = s.slice(0, -1);
      s = s.replace(/\r\n?/g, '\n');
      if (this.pendingCr) s += '\r';
    }
    this.s = s;
    this.cut(this.scan());
  }

  end(): void {
    if (this.pendingCr) {
      this.s = `${this.s.slice(0, -1)}\n`;
      this.pendingCr = false;
    }
    // What is left unread is incomplete; after the root element, only white space may stay.
    const done = this.scan();
    if (this.phase !== 2 || !/^[ \t\n]*$/.test(this.s.slice(done))) throw new XmlScanFallback('end of document');
  }

  /** Drops what was read (before `done`), keeping the line count of what stays. */
  private cut(done: number) {
    this.at = done;
    this.lineBase = this.countLines();
    this.s = this.s.slice(done);
    // Positions in the string just dropped.
    this.at = 0;
    this.countedPos = 0;
    this.countedLine = this.lineBase;
    this.nextAmp = -1;
    this.nextCdEnd = -1;
    if (this.s.length - (this.pendingCr ? 1 : 0) > MAX_CARRY) throw new XmlScanFallback('construct too long');
  }

  /** Scans `s` from the start; returns where the first incomplete construct starts (s.length when none). */
  private scan(): number {
    const s = this.s;
    const n = this.pendingCr ? s.length - 1 : s.length;
    let pos = 0;
    if (this.phase === 0) {
      pos = this.prolog(s, n);
      if (pos < 0) return 0;
    }
    const ev = this.events;
    const stack = this.stack;
    while (pos < n) {
      const lt = s.indexOf('<', pos);
      // Trailing text: complete only once the next tag comes.
      if (lt < 0 || lt >= n) return pos;
      if (lt > pos) this.textRun(s, pos, lt);
      pos = lt;
      if (lt + 1 >= n) return pos;
      const c = s.charCodeAt(lt + 1);
      if (c === SLASH) {
        const gt = s.indexOf('>', lt + 2);
        if (gt < 0 || gt >= n) return pos;
        const top = stack.pop();
        if (top === undefined || !s.startsWith(top, lt + 2)) throw new XmlScanFallback('end tag');
        for (let i = lt + 2 + top.length; i < gt; i++) if (!isWs(s.charCodeAt(i))) throw new XmlScanFallback('end tag');
        ev.close(top);
        if (stack.length === 0) this.phase = 2;
        pos = gt + 1;
      } else if (c === BANG) {
        if (s.startsWith('<!--', lt)) {
          const end = this.comment(s, lt, n);
          if (end < 0) return pos;
          pos = end;
        } else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0 || end + 3 > n) return pos;
          if (this.phase !== 1) throw new XmlScanFallback('CDATA outside the root');
          ev.cdata(s.slice(lt + 9, end));
          pos = end + 3;
        } else {
          // `<!DOCTYPE` inside the document, or a prefix of `<!--` / `<![CDATA[` cut by the piece's end.
          return this.incomplete(s, lt, n, s.startsWith('<![', lt) ? '<![CDATA[' : '<!--');
        }
      } else if (c === QMARK) {
        throw new XmlScanFallback('processing instruction');
      } else {
        const { wholeOpen, wholeClose } = this;
        if (wholeOpen && wholeClose && stack.length === 1 && s.startsWith(wholeOpen, lt)) {
          const close = s.indexOf(wholeClose, lt + wholeOpen.length);
          // Not all there yet: wait for the next piece (cut keeps it, within MAX_CARRY).
          if (close < 0 || close + wholeClose.length > n) return pos;
          const end = close + wholeClose.length;
          this.at = lt + wholeOpen.length - 1;
          if (ev.whole!(s.slice(lt, end), this.countLines())) {
            pos = end;
            continue;
          }
        }
        const end = this.startTag(s, lt, n);
        if (end < 0) return pos;
        pos = end;
      }
    }
    return pos;
  }

  /** A cut-off `<!…` at the end of the piece waits for more; anything else is left to saxes. */
  private incomplete(s: string, lt: number, n: number, expected: string): number {
    const have = s.slice(lt, n);
    if (have.length < expected.length && expected.startsWith(have)) return lt;
    throw new XmlScanFallback('markup declaration');
  }

  /** `<!-- … -->` at `lt`; returns the position after it, -1 when incomplete. */
  private comment(s: string, lt: number, n: number): number {
    const end = s.indexOf('-->', lt + 4);
    if (end < 0 || end + 3 > n) return -1;
    // XML 1.0 §2.5: no `--` inside, no `-` just before the end.
    const dd = s.indexOf('--', lt + 4);
    if (dd < end) throw new XmlScanFallback('comment');
    return end + 3;
  }

  /** Text between two tags (`[a, b)`): checked, entities resolved, handed over. */
  private textRun(s: string, a: number, b: number) {
    if (this.phase !== 1) {
      for (let i = a; i < b; i++) if (!isWs(s.charCodeAt(i))) throw new XmlScanFallback('text outside the root');
      return;
    }
    if (this.nextCdEnd < a) {
      this.nextCdEnd = s.indexOf(']]>', a);
      if (this.nextCdEnd < 0) this.nextCdEnd = s.length;
    }
    if (this.nextCdEnd + 2 < b) throw new XmlScanFallback(']]> in text');
    if (this.nextAmp < a) {
      this.nextAmp = s.indexOf('&', a);
      if (this.nextAmp < 0) this.nextAmp = s.length;
    }
    this.events.text(this.nextAmp < b ? this.entities(s, a, b) : s.slice(a, b));
  }

  /** `[a, b)` with its entity and character references resolved. */
  private entities(s: string, a: number, b: number): string {
    let out = '';
    let from = a;
    let amp = this.nextAmp;
    while (amp < b) {
      const semi = s.indexOf(';', amp + 1);
      if (semi < 0 || semi >= b) throw new XmlScanFallback('entity');
      out += s.slice(from, amp);
      const ref = s.slice(amp + 1, semi);
      if (ref.charCodeAt(0) === 0x23) {
        const hex = ref.charCodeAt(1) === 0x78;
        const digits = ref.slice(hex ? 2 : 1);
        if (!(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) throw new XmlScanFallback('character reference');
        const cp = Number.parseInt(digits, hex ? 16 : 10);
        if (!isXmlChar(cp)) throw new XmlScanFallback('character reference');
        out += String.fromCodePoint(cp);
      } else {
        const v = PREDEFINED[ref];
        if (v === undefined || !Object.hasOwn(PREDEFINED, ref)) throw new XmlScanFallback('entity');
        out += v;
      }
      from = semi + 1;
      amp = s.indexOf('&', from);
      if (amp < 0) amp = s.length;
    }
    this.nextAmp = amp;
    return out + s.slice(from, b);
  }

  /**
   * `s[a, b)` as a string of its own, the same string each time the same characters come: a tag name or an
   * attribute value such as `ENTPersonJointure` is neither sliced anew for each record nor a view that keeps the
   * whole piece alive.
   */
  private intern(s: string, a: number, b: number): string {
    let h = b - a;
    for (let k = a; k < b; k++) h = (Math.imul(h, 31) + s.charCodeAt(k)) | 0;
    const slot = h & (INTERN_SLOTS - 1);
    const known = this.interned[slot];
    if (known !== undefined && known.length === b - a && s.startsWith(known, a)) return known;
    const own = b - a >= 13 ? ` ${s.slice(a, b)}`.slice(1) : s.slice(a, b);
    this.interned[slot] = own;
    return own;
  }

  /** Start tag at `lt`; returns the position after it, -1 when incomplete. */
  private startTag(s: string, lt: number, n: number): number {
    let i = lt + 1;
    if (!isNameStart(s.charCodeAt(i))) throw new XmlScanFallback('tag name');
    i++;
    while (i < n && isNameChar(s.charCodeAt(i))) i++;
    if (i >= n) return -1;
    const name = this.intern(s, lt + 1, i);
    const attrs = this.attrs;
    if (attrs.length) attrs.length = 0;
    let empty = false;
    let ws = false;
    for (;;) {
      let c = s.charCodeAt(i);
      if (isWs(c)) {
        ws = true;
        while (++i < n && isWs(s.charCodeAt(i)));
        if (i >= n) return -1;
        c = s.charCodeAt(i);
      }
      if (c === GT) break;
      if (c === SLASH) {
        if (i + 1 >= n) return -1;
        if (s.charCodeAt(i + 1) !== GT) throw new XmlScanFallback('tag');
        empty = true;
        i++;
        break;
      }
      if (!ws || !isNameStart(c)) throw new XmlScanFallback('attribute');
      const an = i;
      while (++i < n && isNameChar(s.charCodeAt(i)));
      const ae = i;
      while (i < n && isWs(s.charCodeAt(i))) i++;
      if (i >= n) return -1;
      if (s.charCodeAt(i) !== EQ) throw new XmlScanFallback('attribute');
      while (++i < n && isWs(s.charCodeAt(i)));
      if (i >= n) return -1;
      const q = s.charCodeAt(i);
      if (q !== DQUOTE && q !== SQUOTE) throw new XmlScanFallback('attribute');
      const ve = s.indexOf(q === DQUOTE ? '"' : "'", i + 1);
      if (ve < 0 || ve >= n) return -1;
      for (let k = i + 1; k < ve; k++) {
        const v = s.charCodeAt(k);
        if (v === LT || v === AMP || v === 0x09 || v === 0x0a) throw new XmlScanFallback('attribute value');
      }
      const key = this.intern(s, an, ae);
      for (let k = 0; k < attrs.length; k += 2) if (attrs[k] === key) throw new XmlScanFallback('duplicate attribute');
      attrs.push(key, ve - i - 1 <= INTERN_MAX ? this.intern(s, i + 1, ve) : s.slice(i + 1, ve));
      i = ve + 1;
      if (i >= n) return -1;
      ws = false;
    }
    if (this.phase === 2) throw new XmlScanFallback('second root');
    this.phase = 1;
    this.at = i;
    this.stack.push(name);
    this.events.open(name, attrs, this.line);
    if (empty) {
      this.stack.pop();
      this.events.close(name);
      if (this.stack.length === 0) this.phase = 2;
    }
    return i + 1;
  }

  /**
   * Everything before the root element, checked by saxes itself (declaration, DOCTYPE, comments, processing
   * instructions). Returns where the root's `<` is, -1 when the prolog is not complete yet.
   */
  private prolog(s: string, n: number): number {
    let i = 0;
    for (;;) {
      while (i < n && isWs(s.charCodeAt(i))) i++;
      if (i + 1 >= n) return -1;
      if (s.charCodeAt(i) !== LT) throw new XmlScanFallback('prolog');
      const c = s.charCodeAt(i + 1);
      let end: number;
      if (c === QMARK) {
        end = s.indexOf('?>', i + 2);
        if (end >= 0) end += 2;
      } else if (c === BANG) {
        if (s.startsWith('<!--', i)) {
          end = s.indexOf('-->', i + 4);
          if (end >= 0) end += 3;
        } else {
          end = s.indexOf('>', i + 2);
          if (end >= 0 && s.slice(i, end).includes('[')) throw new XmlScanFallback('internal subset');
          if (end >= 0) end += 1;
        }
      } else if (isNameStart(c)) {
        break;
      } else throw new XmlScanFallback('prolog');
      if (end < 0 || end > n) return -1;
      i = end;
    }
    // The root's name, then saxes checks the prolog followed by an empty root of that name.
    let e = i + 1;
    while (e < n && isNameChar(s.charCodeAt(e))) e++;
    if (e >= n) return -1;
    const check = new SaxesParser({ position: true });
    let version: string | undefined;
    try {
      check.write(`${s.slice(0, i)}<${s.slice(i + 1, e)}/>`);
      version = check.xmlDecl.version;
      check.close();
    } catch {
      throw new XmlScanFallback('prolog');
    }
    // XML 1.1 has other line breaks (NEL, LS) and characters.
    if (version !== undefined && version !== '1.0') throw new XmlScanFallback('XML version');
    return i;
  }
}

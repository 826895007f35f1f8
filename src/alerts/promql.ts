/**
 * The small subset of PromQL meshgw's alert rules are written in, parsed into a tree the evaluator
 * walks. Keeping the rules inside this subset is what lets meshgw evaluate the very file users load
 * into Prometheus; anything outside it is refused when the file loads, naming the construct.
 *
 *   expr      := ratio [ cmp-op number ]
 *   ratio     := operand [ "/" operand ]
 *   operand   := "(" expr ")" | aggregate | range-fn | number
 *   aggregate := "sum" [ "by" labels ] "(" expr ")" [ "by" labels ]
 *   range-fn  := ("rate" | "increase") "(" selector "[" duration "]" ")"
 *   selector  := [ metric-name ] [ "{" matcher { "," matcher } [","] "}" ]
 *   matcher   := label ("=" | "!=" | "=~" | "!~") string
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';
export type CmpOp = '>' | '<' | '>=' | '<=' | '==' | '!=';

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
  /** For =~ and !~: the value anchored at both ends, as Prometheus anchors it. */
  regex?: RegExp;
}

export type Expr =
  | { type: 'number'; value: number }
  | { type: 'range-fn'; fn: 'rate' | 'increase'; matchers: Matcher[]; rangeMs: number }
  | { type: 'sum'; by: string[] | undefined; expr: Expr }
  | { type: 'div'; left: Expr; right: Expr }
  | { type: 'cmp'; op: CmpOp; left: Expr; right: number };

/** The expression is valid PromQL, or not, but outside what meshgw evaluates. */
export class PromqlSubsetError extends Error {}

type Token = { kind: 'ident' | 'number' | 'string' | 'duration' | 'punct'; text: string; pos: number };

const PUNCT = ['=~', '!~', '!=', '>=', '<=', '==', '(', ')', '{', '}', '[', ']', ',', '/', '>', '<', '='];
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') throw new PromqlSubsetError(`comments inside an expression are not supported (at ${i})`);
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const next = src[j + 1];
          const esc: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" };
          if (next === undefined || !(next in esc)) throw new PromqlSubsetError(`unsupported escape \\${next ?? ''} in a string (at ${j})`);
          text += esc[next];
          j += 2;
        } else text += src[j++];
      }
      if (j >= src.length) throw new PromqlSubsetError(`unterminated string (at ${i})`);
      out.push({ kind: 'string', text, pos: i });
      i = j + 1;
      continue;
    }
    const dur = /^(\d+(?:ms|[smhdwy]))+/.exec(src.slice(i));
    if (dur && out.at(-1)?.text === '[') {
      out.push({ kind: 'duration', text: dur[0], pos: i });
      i += dur[0].length;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'number', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(src.slice(i));
    if (ident) {
      out.push({ kind: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    const p = PUNCT.find((x) => src.startsWith(x, i));
    if (!p) throw new PromqlSubsetError(`unexpected character '${c}' (at ${i})`);
    out.push({ kind: 'punct', text: p, pos: i });
    i += p.length;
  }
  return out;
}

function parseDuration(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|[smhdwy])/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]];
  return ms;
}

/** Prometheus anchors label regexes: `=~"a|b"` means ^(?:a|b)$. */
export function anchoredRegex(re: string): RegExp {
  try {
    return new RegExp(`^(?:${re})$`, 's');
  } catch (err) {
    throw new PromqlSubsetError(`invalid regex "${re}": ${(err as Error).message}`);
  }
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new PromqlSubsetError('unexpected end of expression');
    return t;
  }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text) throw new PromqlSubsetError(`expected '${text}' but found '${t.text}' (at ${t.pos})`);
    return t;
  }
  private accept(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.i++;
    return true;
  }

  parseAll(): Expr {
    const e = this.expr();
    const rest = this.peek();
    if (rest) throw new PromqlSubsetError(`unsupported '${rest.text}' (at ${rest.pos})`);
    return e;
  }

  private expr(): Expr {
    const left = this.ratio();
    const t = this.peek();
    if (t?.kind === 'punct' && ['>', '<', '>=', '<=', '==', '!='].includes(t.text)) {
      this.i++;
      if (this.peek()?.text === 'bool') throw new PromqlSubsetError(`the bool modifier is not supported (at ${this.peek()!.pos})`);
      const right = this.next();
      if (right.kind !== 'number') throw new PromqlSubsetError(`a comparison must have a number on its right (found '${right.text}' at ${right.pos})`);
      return { type: 'cmp', op: t.text as CmpOp, left, right: Number(right.text) };
    }
    return left;
  }

  private ratio(): Expr {
    const left = this.operand();
    if (!this.accept('/')) return left;
    for (const mod of ['on', 'ignoring', 'group_left', 'group_right']) {
      if (this.peek()?.text === mod) throw new PromqlSubsetError(`vector matching with ${mod}() is not supported: divide two sums by the same labels (at ${this.peek()!.pos})`);
    }
    const right = this.operand();
    if (this.peek()?.text === '/') throw new PromqlSubsetError(`only one '/' per expression is supported (at ${this.peek()!.pos})`);
    return { type: 'div', left, right };
  }

  private operand(): Expr {
    const t = this.next();
    if (t.text === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.kind === 'number') return { type: 'number', value: Number(t.text) };
    if (t.kind === 'ident' && t.text === 'sum') return this.aggregate();
    if (t.kind === 'ident' && (t.text === 'rate' || t.text === 'increase')) return this.rangeFn(t.text);
    if (t.kind === 'ident' && ['(', 'by', 'without'].includes(this.peek()?.text ?? '')) throw new PromqlSubsetError(`function or aggregation ${t.text}() is not supported: use sum, rate or increase (at ${t.pos})`);
    if (t.kind === 'ident' || t.text === '{') throw new PromqlSubsetError(`a bare selector is not supported: wrap it in rate(…[range]) or increase(…[range]) (at ${t.pos})`);
    throw new PromqlSubsetError(`unexpected '${t.text}' (at ${t.pos})`);
  }

  private labels(): string[] {
    this.expect('(');
    const out: string[] = [];
    while (!this.accept(')')) {
      const t = this.next();
      if (t.kind !== 'ident') throw new PromqlSubsetError(`expected a label name but found '${t.text}' (at ${t.pos})`);
      out.push(t.text);
      if (!this.accept(',')) {
        this.expect(')');
        break;
      }
    }
    return out;
  }

  private aggregate(): Expr {
    let by: string[] | undefined;
    const modifier = (): void => {
      const t = this.peek();
      if (t?.text === 'without') throw new PromqlSubsetError(`sum without(…) is not supported: use sum by(…) (at ${t.pos})`);
      if (this.accept('by')) by = this.labels();
    };
    modifier();
    this.expect('(');
    const expr = this.expr();
    this.expect(')');
    if (by === undefined) modifier();
    return { type: 'sum', by, expr };
  }

  private rangeFn(fn: 'rate' | 'increase'): Expr {
    this.expect('(');
    const matchers = this.selector();
    this.expect('[');
    const d = this.next();
    if (d.kind !== 'duration') throw new PromqlSubsetError(`${fn}() needs a range like [1m] (found '${d.text}' at ${d.pos})`);
    this.expect(']');
    if (this.peek()?.kind === 'ident') throw new PromqlSubsetError(`'${this.peek()!.text}' after a range selector is not supported (at ${this.peek()!.pos})`);
    this.expect(')');
    return { type: 'range-fn', fn, matchers, rangeMs: parseDuration(d.text) };
  }

  private selector(): Matcher[] {
    const matchers: Matcher[] = [];
    const first = this.peek();
    if (first?.kind === 'ident') {
      this.i++;
      matchers.push({ label: '__name__', op: '=', value: first.text });
    }
    if (this.accept('{')) {
      while (!this.accept('}')) {
        const label = this.next();
        if (label.kind !== 'ident') throw new PromqlSubsetError(`expected a label name but found '${label.text}' (at ${label.pos})`);
        const op = this.next();
        if (!['=', '!=', '=~', '!~'].includes(op.text)) throw new PromqlSubsetError(`unsupported matcher '${op.text}' (at ${op.pos})`);
        const value = this.next();
        if (value.kind !== 'string') throw new PromqlSubsetError(`a matcher value must be a string (at ${value.pos})`);
        const m: Matcher = { label: label.text, op: op.text as MatchOp, value: value.text };
        if (m.op === '=~' || m.op === '!~') m.regex = anchoredRegex(m.value);
        matchers.push(m);
        if (!this.accept(',')) {
          this.expect('}');
          break;
        }
      }
    }
    if (matchers.length === 0) throw new PromqlSubsetError(`expected a metric name or {…} selector (at ${first?.pos ?? 'end'})`);
    return matchers;
  }
}

/** Parses one rule expression; throws PromqlSubsetError naming what is outside the subset. */
export function parsePromql(src: string): Expr {
  return new Parser(tokenize(src)).parseAll();
}

/** Every range the expression selects (the evaluator needs the largest to know how much history to keep). */
export function rangesOf(e: Expr): number[] {
  switch (e.type) {
    case 'number':
      return [];
    case 'range-fn':
      return [e.rangeMs];
    case 'sum':
      return rangesOf(e.expr);
    case 'div':
      return [...rangesOf(e.left), ...rangesOf(e.right)];
    case 'cmp':
      return rangesOf(e.left);
  }
}

/** 'vector' or 'scalar'; throws where PromQL itself would refuse the types or the subset has no meaning for them. */
export function resultType(e: Expr): 'vector' | 'scalar' {
  switch (e.type) {
    case 'number':
      return 'scalar';
    case 'range-fn':
      return 'vector';
    case 'sum':
      if (resultType(e.expr) !== 'vector') throw new PromqlSubsetError('sum() needs a vector inside');
      return 'vector';
    case 'div':
      return resultType(e.left) === 'vector' || resultType(e.right) === 'vector' ? 'vector' : 'scalar';
    case 'cmp':
      if (resultType(e.left) !== 'vector') throw new PromqlSubsetError('comparing two numbers needs the bool modifier, which the subset does not support');
      return 'vector';
  }
}

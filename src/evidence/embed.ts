/**
 * Puts a standalone page that another feature renders (the throttle charts, the trace waterfall)
 * inside the evidence report: its body, with its stylesheet scoped to the section that holds it, so
 * one feature draws each picture and the two pages' rules (body, table) cannot restyle each other.
 */

/** The body and stylesheet of a page we rendered ourselves; undefined if it has neither marker. */
export function extractPage(html: string): { style: string; body: string } | undefined {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1];
  if (body === undefined) return undefined;
  const style = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]).join('\n');
  return { style, body };
}

/**
 * Prefixes every selector with `scope` (body and html become the scope itself). Our renderers'
 * stylesheets are flat rule lists, no @media or nesting, which is all this handles.
 */
export function scopeCss(css: string, scope: string): string {
  return css.replace(/([^{}]+)\{([^{}]*)\}/g, (_, selectors: string, declarations: string) => {
    const scoped = selectors
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => (s === 'body' || s === 'html' ? scope : `${scope} ${s}`))
      .join(', ');
    return `${scoped} {${declarations}}\n`;
  });
}

/** The page's body as a fragment under `scope` (a CSS selector such as #throttle-charts), headings moved down two levels. */
export function embedPage(html: string, scope: string): { style: string; fragment: string } | undefined {
  const page = extractPage(html);
  if (!page) return undefined;
  const fragment = page.body.replace(/<(\/?)h([1-4])\b/gi, (_, slash: string, level: string) => `<${slash}h${Math.min(6, Number(level) + 2)}`);
  return { style: scopeCss(page.style, scope), fragment };
}

/**
 * Server-rendered HTML: a tagged template that escapes every interpolated value unless it is already
 * `SafeHtml`, and the shared page layout. No client-side framework; pages work without JavaScript.
 */

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** `html\`<p>${userText}</p>\`` — interpolations are escaped; arrays are joined; SafeHtml passes through. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Trust a string as HTML (only for constants). */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Rendered in the header, right side (e.g. the signed-in user and sign-out). */
  nav?: SafeHtml;
}

/** The common document around every page. */
export function page({ title, body, nav }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · MessageBridge</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header class="top"><a class="brand" href="/home/">MessageBridge</a><nav>${nav ?? ''}</nav></header>
<main>
${body}
</main>
</body>
</html>`.value;
}

// The hookd name, mark and title on the API reference at /docs, in place of Swagger UI's
// title and icons and @fastify/swagger-ui's fastify logo. The mark is the web UI's icon.
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';

const MARK = `<rect width="32" height="32" rx="7" fill="#4f46e5"/>`
  + `<path d="M11 7v11a5 5 0 0 0 10 0v-3" stroke="white" stroke-width="3" fill="none" stroke-linecap="round"/>`
  + `<path d="M17 17l4-4 4 4" stroke="white" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">${MARK}</svg>`;

/** The mark and "hookd API reference", white on the reference's dark top bar. */
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 40" width="300" height="40">`
  + `<g transform="translate(0 4)">${MARK}</g>`
  + `<text x="42" y="28" fill="white" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="22">`
  + `<tspan font-weight="700">hookd</tspan><tspan dx="8" font-weight="400" fill="#c7d2fe">API reference</tspan></text></svg>`;

export const DOCS_TITLE = 'hookd API reference';

export const DOCS_BRAND = {
  logo: { type: 'image/svg+xml', content: Buffer.from(LOGO), href: '/docs', target: '_self' },
  theme: {
    title: DOCS_TITLE,
    favicon: [{ filename: 'hookd.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: Buffer.from(ICON) }],
  },
} satisfies Pick<FastifySwaggerUiOptions, 'logo' | 'theme'>;

// axe-core (exact version in package.json) for the e2e tests: the WCAG 2.1 A and AA rules on a
// page. The page's CSP (script-src 'self') blocks an inline script: use it in a context opened
// with `bypassCSP: true` (visitor({ options: { bypassCSP: true } })).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// Runs axe on the whole document (or only `include`, a selector); one readable line per rule
// broken (empty: none).
export async function axeViolations(page, include = null) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ content: AXE_SOURCE });
  await page.evaluate(() => document.fonts.ready);
  const result = await page.evaluate(
    ([tags, sel]) => window.axe.run(sel ? { include: [sel] } : document, {
      runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'],
    }),
    [WCAG_TAGS, include],
  );
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 6).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)}`).join('\n')}`);
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = join(__dirname, '..');
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * Debian's Chromium (installed by `scripts/stack.sh install`), or the one CHROMIUM_PATH names: playwright-core
 * drives a browser it did not download.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? CANDIDATES.find((path) => existsSync(path));
  if (!executablePath) {
    throw new Error('no Chromium found: `bash scripts/stack.sh install` installs it, or set CHROMIUM_PATH');
  }
  // No sandbox: CI runs as root, where Chromium refuses its own.
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** The built dashboard the producer serves; the e2e run builds it first (`npm test`, `npm run build`). */
export function assertDashboardBuilt(): void {
  if (!existsSync(join(ROOT, 'dashboard', 'dist', 'index.html'))) {
    throw new Error('the dashboard is not built: run `npm run build` first');
  }
}

const SCREENSHOTS = join(ROOT, 'test-results', 'dashboard');
const PUBLISHED = join(ROOT, 'docs', 'dashboard');

/**
 * Saves a screenshot of the page under test-results/dashboard; with JOBLINE_UPDATE_SCREENSHOTS=1 also under
 * docs/dashboard, where the README shows them.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dirs = process.env.JOBLINE_UPDATE_SCREENSHOTS === '1' ? [SCREENSHOTS, PUBLISHED] : [SCREENSHOTS];
  const image = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
  const { writeFile } = await import('node:fs/promises');
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    await writeFile(join(dir, `${name}.png`), image);
  }
}

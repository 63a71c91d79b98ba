// What every browser test starts from: Debian's Chromium, headless,
// through playwright-core (no downloaded browser), with a fresh profile,
// trusting only the test server's certificate (by its public key), and an
// axe-core scan that fails on any serious or critical violation.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

/** The base64 SHA-256 of a certificate's public key, for Chromium's pin. */
function spkiPin(certPath) {
  const cert = new X509Certificate(readFileSync(certPath));
  const der = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

/** Launches Chromium; `close()` ends it and removes its profile. */
export async function launch({ certPath, locale = "en-US" }) {
  const profile = mkdtempSync(join(tmpdir(), "touchtone-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [...FLAGS, `--ignore-certificate-errors-spki-list=${spkiPin(certPath)}`],
    locale,
    viewport: { width: 1100, height: 900 },
  });
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs axe on the page; throws on a serious or critical violation. */
export async function scan(page, label, report) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  report.scans.push({ page: label, url: page.url(), violations: result.violations.map((v) => `${v.impact}: ${v.id}`) });
  if (bad.length > 0) {
    const detail = bad
      .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`)
      .join("\n");
    throw new Error(`axe found serious or critical violations on ${label} (${page.url()}):\n${detail}`);
  }
}

/** Saves a full-page screenshot as OUT/NAME.png. */
export async function shot(page, name, report) {
  const dir = process.env.SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  report.screenshots.push(path);
}

/** Asserts, with a message that says what was expected. */
export function expect(condition, message) {
  if (!condition) throw new Error(`expected: ${message}`);
}

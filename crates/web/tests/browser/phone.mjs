// A person registers a phone number as a person would: asks to add it,
// is shown a code, has the number called, keys the code on the phone, and
// sees the number listed; then removes it. The test that runs this
// answers the call: this script prints `CODE <digits>` when the page shows
// the code and waits for a line `READY` on stdin before it asks for the
// call. Every page is scanned with axe and photographed.
//
// With SECOND_FACTOR=1 (the server asks for a call at sign-in to a
// registered number), the person then signs out and in again: the page
// shows a code and only the number's last digits; the script prints
// `SIGN-IN CODE <digits>`, waits for `READY`, asks for the call, and once
// the call confirms it lands on the status page.
//
// Environment: BASE, CERT, LOGIN, PASSWORD, NUMBER (as the person types
// it), E164 (how the page will show it), SECOND_FACTOR, SCREENSHOTS
// (optional).
import { createInterface } from "node:readline";
import { launch, scan, shot, expect } from "./browser.mjs";

const base = process.env.BASE;
const report = { scans: [], screenshots: [], steps: [] };
const step = (s) => report.steps.push(s);
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));

async function main() {
  const browser = await launch({ certPath: process.env.CERT });
  const { page } = browser;
  try {
    await page.goto(`${base}/sign-in`);
    await page.getByLabel("User ID").fill(process.env.LOGIN);
    await page.getByLabel("Password").fill(process.env.PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Sign in" }).click()]);
    await page.getByRole("link", { name: "Manage your phone numbers" }).click();
    await page.waitForURL(`${base}/phones`);
    await scan(page, "phones", report);
    await shot(page, "portal-phones", report);
    step("phones page");

    // Not a number: refused with the reason, next to the field.
    await page.getByLabel("Phone number").fill("not a number");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("alert").filter({ hasText: "not a phone number we can read" }).waitFor();
    await scan(page, "phones refused", report);
    step("a bad number refused");

    await page.getByLabel("Phone number").fill(process.env.NUMBER);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/phones\/[0-9a-f-]+$/);
    const code = (await page.locator("#proof-code").textContent()).replace(/\s+/g, "");
    expect(/^[0-9]{6}$/.test(code), `a six-digit code is shown: ${code}`);
    await scan(page, "proof (code shown)", report);
    await shot(page, "portal-phone-code", report);
    console.log(`CODE ${code}`);
    expect((await nextLine()).trim() === "READY", "the test is ready to answer");
    step("code shown");

    await page.getByRole("button", { name: "Call me now" }).click();
    // The page refreshes itself while the call runs.
    await page.getByText("The number is confirmed and added.").waitFor({ timeout: 90000 });
    await scan(page, "proof (confirmed)", report);
    await shot(page, "portal-phone-confirmed", report);
    step("number confirmed by the call");

    await page.getByRole("link", { name: "Back to your numbers" }).click();
    await page.getByRole("cell", { name: process.env.E164, exact: true }).waitFor();
    await shot(page, "portal-phones-listed", report);

    if (process.env.SECOND_FACTOR === "1") {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/sign-in`);
      await page.getByLabel("User ID").fill(process.env.LOGIN);
      await page.getByLabel("Password").fill(process.env.PASSWORD);
      await Promise.all([page.waitForURL(`${base}/sign-in/verify`), page.getByRole("button", { name: "Sign in" }).click()]);
      const tail = process.env.E164.slice(-2);
      expect((await page.getByText(`ending in ${tail}.`).count()) === 1, "the number's last digits are shown");
      expect((await page.getByText(process.env.E164).count()) === 0, "not the whole number");
      // The session can do nothing else until the call confirms it.
      await page.goto(`${base}/phones`);
      await page.waitForURL(`${base}/sign-in/verify`);
      const signInCode = (await page.locator("#proof-code").textContent()).replace(/\s+/g, "");
      expect(/^[0-9]{6}$/.test(signInCode), `a six-digit code is shown: ${signInCode}`);
      await scan(page, "sign-in second step", report);
      await shot(page, "portal-sign-in-verify", report);
      console.log(`SIGN-IN CODE ${signInCode}`);
      expect((await nextLine()).trim() === "READY", "the test is ready to answer");
      await page.getByRole("button", { name: "Call me now" }).click();
      // The page refreshes itself while the call runs, then goes on.
      await page.waitForURL(`${base}/`, { timeout: 90000 });
      await page.getByRole("heading", { name: "Security questions" }).waitFor();
      await scan(page, "status after the second step", report);
      step("signed in again with the call");
      await page.getByRole("link", { name: "Manage your phone numbers" }).click();
      await page.waitForURL(`${base}/phones`);
    }
    await page.getByRole("button", { name: `Remove ${process.env.E164}` }).click();
    await page.getByText("The number is removed.").waitFor();
    expect((await page.getByRole("cell", { name: process.env.E164, exact: true }).count()) === 0, "the number is gone");
    await scan(page, "phones (removed)", report);
    step("number removed");
  } finally {
    lines.close();
    await browser.close();
  }
}

main().then(
  () => { console.log(JSON.stringify(report)); },
  (e) => { console.error(e.stack || String(e)); console.log(JSON.stringify(report)); process.exit(1); },
);

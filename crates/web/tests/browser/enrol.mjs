// A person enrols in the portal as a person would: signs in (after a wrong
// password), is told they are not enrolled, has weak answers refused with
// their reasons, enrols good ones, reads what to key on the phone, sees
// the change in their activity, switches to German, signs out. Every page
// is scanned with axe and photographed. Cookie attributes and form tokens
// are checked on the way.
//
// Environment: BASE (https://127.0.0.1:PORT), CERT (the server's PEM),
// LOGIN, PASSWORD, ANSWERS (JSON [[question_id, answer], ...]: what to
// enrol, in slot order), SCREENSHOTS (a directory, optional).
// Prints a JSON report as its last line; exits 1 with the reason on failure.
import { createHmac } from "node:crypto";
import { launch, scan, shot, expect } from "./browser.mjs";

/// RFC 4648 base32 (the key the page shows, spaces ignored) to bytes.
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/\s+/g, "").toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) an authenticator app shows now.
function totp(key, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 30000)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[19] & 15;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, "0");
}

const base = process.env.BASE;
const login = process.env.LOGIN;
const password = process.env.PASSWORD;
const answers = JSON.parse(process.env.ANSWERS || "[]");
const report = { scans: [], screenshots: [], steps: [] };
const step = (s) => report.steps.push(s);

async function main() {
  const browser = await launch({ certPath: process.env.CERT });
  const { page, context } = browser;
  try {
    // Not signed in: sent to the sign-in page.
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname === "/sign-in", `/ sends to /sign-in, at ${page.url()}`);
    expect((await page.locator("html").getAttribute("lang")) === "en", "the page is in English");
    await scan(page, "sign-in", report);
    await shot(page, "portal-sign-in", report);
    const pre = (await context.cookies()).find((c) => c.name === "__Host-tt-pre");
    expect(pre && pre.secure && pre.httpOnly && pre.sameSite === "Strict" && pre.path === "/",
      `the pre-session cookie is Secure, HttpOnly, SameSite=Strict: ${JSON.stringify(pre)}`);
    step("sign-in page");

    // A wrong password: the same answer as for anyone else.
    await page.getByLabel("User ID").fill(login);
    await page.getByLabel("Password").fill("not-the-password");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/sign-in") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    expect(refused.status() === 401, `a wrong password is 401, got ${refused.status()}`);
    await page.getByRole("alert").filter({ hasText: "The user ID or password is not right." }).waitFor();
    await scan(page, "sign-in refused", report);
    await shot(page, "portal-sign-in-refused", report);
    step("wrong password refused");

    // The right one.
    await page.getByLabel("Password").fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Sign in" }).click()]);
    const session = (await context.cookies()).find((c) => c.name === "__Host-tt-portal");
    expect(session && session.secure && session.httpOnly && session.sameSite === "Strict" && session.path === "/" && !session.domain.startsWith("."),
      `the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict: ${JSON.stringify(session)}`);
    expect(session.expires === -1, "the session cookie ends with the browser");
    await page.getByText("You are not enrolled yet").waitFor();
    await scan(page, "status (not enrolled)", report);
    await shot(page, "portal-status-not-enrolled", report);
    step("signed in; not enrolled");

    // A form without its token changes nothing: 403.
    // (A form built in the page and posted with its cookies, as a forged
    // one would be; the page's CSP allows no fetch at all.)
    const [forged] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/answers") && r.request().method() === "POST"),
      page.evaluate((q) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/answers";
        for (const [name, value] of [["q0", q], ["a0", "7394"], ["c0", "7394"]]) {
          const input = document.createElement("input");
          input.name = name;
          input.value = value;
          form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
      }, answers[0][0]),
    ]);
    expect(forged.status() === 403, `a form without its token is 403, got ${forged.status()}`);
    await page.getByText("Nothing was changed").waitFor();
    await scan(page, "forbidden", report);
    await page.goto(`${base}/`);
    await page.getByText("You are not enrolled yet").waitFor();
    step("form without token refused");

    // Weak answers, refused with their reasons.
    await page.getByRole("link", { name: "Enrol your answers" }).click();
    await page.waitForURL(`${base}/answers`);
    await scan(page, "answers form", report);
    await shot(page, "portal-answers", report);
    const slots = answers.length;
    for (let i = 0; i < slots; i++) {
      await page.locator(`#q${i}`).selectOption(answers[i][0]);
    }
    await page.locator("#a0").fill("1111");
    await page.locator("#c0").fill("1111");
    await page.locator("#a1").fill("1234");
    await page.locator("#c1").fill("1234");
    if (slots > 2) {
      await page.locator("#a2").fill(answers[2][1]);
      await page.locator("#c2").fill(answers[2][1] + "x");
    }
    // The live keypad preview (progressive enhancement) shows the digits.
    await page.locator("#a0").fill("Rex");
    await page.locator("#kp0").filter({ hasText: "On the keypad: 7 3 9" }).waitFor();
    await page.locator("#a0").fill("1111");
    const [weak] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/answers") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Enrol these answers" }).click(),
    ]);
    expect(weak.status() === 422, `weak answers are 422, got ${weak.status()}`);
    await page.locator("#err-0").filter({ hasText: "one digit repeated" }).waitFor();
    await page.locator("#err-1").filter({ hasText: "run of digits" }).waitFor();
    if (slots > 2) await page.locator("#err-2").filter({ hasText: "The two answers differ" }).waitFor();
    expect((await page.locator("#a0").getAttribute("aria-invalid")) === "true", "the refused field is marked invalid");
    await scan(page, "answers refused", report);
    await shot(page, "portal-answers-refused", report);
    step("weak answers refused with reasons");

    // Good answers.
    for (let i = 0; i < slots; i++) {
      await page.locator(`#q${i}`).selectOption(answers[i][0]);
      await page.locator(`#a${i}`).fill(answers[i][1]);
      await page.locator(`#c${i}`).fill(answers[i][1]);
    }
    await page.getByRole("button", { name: "Enrol these answers" }).click();
    await page.getByText("Your answers are enrolled.").waitFor();
    const keys = await page.locator("td.keys").allTextContents();
    expect(keys.length === slots, `one row of keys per answer: ${keys}`);
    report.keys = keys.map((k) => k.replace(/\s+/g, ""));
    await scan(page, "answers enrolled", report);
    await shot(page, "portal-answers-enrolled", report);
    step("answers enrolled");

    await page.getByRole("link", { name: "Back to your status" }).click();
    await page.getByText("You are enrolled").waitFor();
    await page.getByRole("cell", { name: "Answers changed" }).first().waitFor();
    await page.getByRole("cell", { name: "Signed in to this page" }).first().waitFor();
    await scan(page, "status (enrolled)", report);
    await shot(page, "portal-status-enrolled", report);
    step("status shows the enrolment and the activity");

    // German, by the switch on the page.
    await page.getByRole("link", { name: "Deutsch" }).click();
    await page.getByText("Sie sind registriert").waitFor();
    expect((await page.locator("html").getAttribute("lang")) === "de", "the page is in German");
    await scan(page, "status (German)", report);
    await shot(page, "portal-status-de", report);
    await page.getByRole("link", { name: "English" }).click();
    step("German and back");

    // An authenticator app: scan (here: read the key under the picture),
    // confirm with a wrong code (refused), then the app's current code.
    await page.getByRole("link", { name: "Set up or change your app" }).click();
    await page.waitForURL(`${base}/authenticator`);
    await page.getByRole("button", { name: "Show the code to scan" }).click();
    await page.getByRole("img", { name: "A QR code to scan with your authenticator app" }).waitFor();
    await scan(page, "authenticator (scan)", report);
    await shot(page, "portal-authenticator-scan", report);
    const key = base32(await page.locator("#authenticator-key").innerText());
    expect(key.length === 20, `a 160-bit key, got ${key.length} bytes`);
    const right = totp(key);
    await page.getByLabel("Code from the app").fill(right === "000000" ? "111111" : "000000");
    const [wrongCode] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/authenticator/confirm")),
      page.getByRole("button", { name: "Confirm" }).click(),
    ]);
    expect(wrongCode.status() === 422, `a wrong code is 422, got ${wrongCode.status()}`);
    await page.getByRole("alert").filter({ hasText: "That is not the code" }).waitFor();
    await scan(page, "authenticator (wrong code)", report);
    await page.getByLabel("Code from the app").fill(totp(key));
    await Promise.all([page.waitForURL(`${base}/authenticator?added=1`), page.getByRole("button", { name: "Confirm" }).click()]);
    await page.getByRole("status").filter({ hasText: "Your authenticator app is set up." }).waitFor();
    await scan(page, "authenticator (set up)", report);
    await shot(page, "portal-authenticator-set-up", report);
    report.totp_key = key.toString("hex");
    await page.getByRole("link", { name: "Back to your status" }).click();
    await page.getByText(/^Set up \d/).waitFor();
    await page.getByRole("cell", { name: "Authenticator app set up" }).first().waitFor();
    step("authenticator app set up");

    // Signing out ends the session: the old cookie no longer opens a page.
    const token = (await context.cookies()).find((c) => c.name === "__Host-tt-portal").value;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/sign-in`);
    await context.addCookies([{ name: "__Host-tt-portal", value: token, url: base, secure: true, httpOnly: true, sameSite: "Strict" }]);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname === "/sign-in", `a signed-out session opens nothing, at ${page.url()}`);
    step("signed out; the old session is dead");
  } finally {
    await browser.close();
  }
}

main().then(
  () => { console.log(JSON.stringify(report)); },
  (e) => { console.error(e.stack || String(e)); console.log(JSON.stringify(report)); process.exit(1); },
);

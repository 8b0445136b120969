// Helpers of Liasse's end-to-end tests: the browser (Debian's chromium through
// playwright-core's library API), axe-core on every page, screenshots, keyboard-only
// navigation and sample files.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const BASE = (process.env.LIASSE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(__dirname, "..", "test-artifacts", "e2e");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const VIEWPORTS = {
  telephone: { width: 390, height: 844 },
  ordinateur: { width: 1280, height: 800 },
};

/** Problems found (accessibility violations, CSP reports, script errors), reported at the end. */
const problems = [];
/** Pages checked with axe, for the report. */
const checked = [];

function problem(text) {
  problems.push(text);
  console.log("  PROBLÈME : " + text);
}

/** A fresh browser with a new empty profile (user data dir), at a viewport. */
async function browser(viewportName) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "liasse-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORTS[viewportName],
    locale: "fr-FR",
    timezoneId: "Europe/Paris",
    acceptDownloads: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--lang=fr-FR",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  // Intercept file choosers from the start, so that opening one with the keyboard never
  // races with the interception being switched on.
  page.on("filechooser", () => {});
  watch(page, viewportName);
  return {
    context,
    page,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Fails on any CSP violation or script error of our pages. */
function watch(page, viewportName) {
  page.on("console", (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|execute|apply|frame)/i.test(text)) {
      problem(`[${viewportName}] violation de la CSP sur ${page.url()} : ${text}`);
    }
  });
  page.on("pageerror", (err) => {
    // Chromium's own PDF viewer (inside the <object> previews) is not our script.
    if (/chrome-extension:\/\/|chrome:\/\//.test(err.stack || "")) return;
    problem(`[${viewportName}] erreur de script sur ${page.url()} : ${err.message}`);
  });
}

/** Runs axe-core (WCAG 2.1 A and AA) on the page and takes a screenshot. */
async function check(page, viewportName, name) {
  await page.waitForLoadState("load");
  const file = path.join(ARTIFACTS, `${viewportName}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // Evaluated through the DevTools protocol: not an inline script, so the page's CSP stays
  // strict while axe runs.
  const present = await page.evaluate(() => typeof window.axe === "object");
  if (!present) {
    await page.evaluate(AXE_SOURCE);
  }
  const violations = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")} — ${n.failureSummary.replace(/\s+/g, " ")}`),
    }));
  }, AXE_TAGS);
  checked.push(`${viewportName}-${name} ${new URL(page.url()).pathname}`);
  for (const v of violations) {
    problem(`[${viewportName}] axe ${v.id} (${v.impact}) sur ${name} (${page.url()}) : ${v.help}\n      ${v.nodes.join("\n      ")}`);
  }
  return violations;
}

/** Presses Tab until the focused element matches `selector`; checks the focus is visible. */
async function tabTo(page, selector, max = 150) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const state = await page.evaluate((sel) => {
      const el = document.activeElement;
      if (!el || !el.matches(sel)) return null;
      const s = getComputedStyle(el);
      return { outline: s.outlineStyle !== "none" && s.outlineWidth !== "0px", shadow: s.boxShadow !== "none" };
    }, selector);
    if (state) {
      if (!state.outline && !state.shadow) {
        problem(`focus invisible sur ${selector} (${page.url()})`);
      }
      return;
    }
  }
  throw new Error(`la touche Tab n'atteint jamais ${selector} sur ${page.url()}`);
}

/** Opens the focused file input with the keyboard (Space, else Enter) and gives it a file. */
async function keyboardFile(page, file) {
  for (const key of ["Space", "Enter", "Space", "Enter"]) {
    const waiting = page.waitForEvent("filechooser", { timeout: 5000 }).catch(() => null);
    await page.keyboard.press(key);
    const chooser = await waiting;
    if (chooser) {
      await chooser.setFiles(file);
      return;
    }
  }
  throw new Error(`le sélecteur de fichier ne s'ouvre pas au clavier sur ${page.url()}`);
}

/** Chooses an option of the focused <select> with the keyboard only (arrow keys). */
async function keyboardSelect(page, selector, value) {
  for (let i = 0; i < 200; i++) {
    const current = await page.$eval(selector, (e) => e.value);
    if (current === value) return;
    await page.keyboard.press("ArrowDown");
  }
  throw new Error(`option ${value} introuvable au clavier dans ${selector}`);
}

async function login(page, login, password) {
  await page.goto(BASE + "/connexion");
  // The demo's tenant is known from the host: residents are never asked for it.
  if (await page.locator("#tenant").count()) throw new Error("la page de connexion demande la collectivité");
  await page.fill("#login", login);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click('main button[type="submit"]')]);
  if (page.url().includes("/connexion")) {
    throw new Error(`connexion refusée pour ${login}`);
  }
}

async function logout(page) {
  await Promise.all([page.waitForNavigation(), page.click('form[action="/deconnexion"] button')]);
}

/** Expects text on the page (main content). */
async function expectText(page, text, where = "main") {
  const content = await page.textContent(where);
  if (!content.includes(text)) {
    throw new Error(`texte attendu absent de ${page.url()} : « ${text} »\n--- contenu ---\n${content.replace(/\s+/g, " ").slice(0, 1500)}`);
  }
}

/** Submits the form that contains `buttonSelector` and waits for the next page. */
async function submit(page, buttonSelector) {
  await Promise.all([page.waitForNavigation(), page.click(buttonSelector)]);
}

/** A small valid one-page PDF showing `text` (accepted by Liasse's upload inspection). */
function pdf(text) {
  const esc = text.replace(/[()\\]/g, (c) => "\\" + c).replace(/[^\x20-\x7e]/g, "?");
  const content = `BT /F1 24 Tf 72 760 Td (${esc}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** A real JPEG photo, made by the browser itself (a screenshot of a drawn "card"). */
async function photo(context, label) {
  const p = await context.newPage();
  await p.setViewportSize({ width: 640, height: 400 });
  await p.setContent(
    `<body style="margin:0;background:#dfe8f3;font:32px sans-serif"><div style="margin:40px;padding:30px;border:6px solid #1d4f91;border-radius:16px;background:#fff">${label}<br>RÉPUBLIQUE FRANÇAISE</div></body>`,
  );
  const buf = await p.screenshot({ type: "jpeg", quality: 80 });
  await p.close();
  return buf;
}

/** Today plus `days`, as YYYY-MM-DD (the server's clock is the system's). */
function isoDate(days) {
  const d = new Date(Date.now() + days * 86400000);
  return d.toISOString().slice(0, 10);
}

module.exports = {
  BASE,
  ARTIFACTS,
  VIEWPORTS,
  problems,
  checked,
  problem,
  browser,
  check,
  tabTo,
  keyboardFile,
  keyboardSelect,
  login,
  logout,
  expectText,
  submit,
  pdf,
  photo,
  isoDate,
};

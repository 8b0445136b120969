// Liasse's end-to-end tests: the citizen, agent and admin stories on a phone-sized and a
// desktop-sized viewport, in Debian's headless chromium driven by playwright-core, with
// axe-core (WCAG 2.1 A and AA) on every page visited and screenshots in test-artifacts/e2e/.
//
//   LIASSE_URL=http://127.0.0.1:PORT node run.js      (a `liasse demo` server must run there)
//
// Exit code 0 when every story passes with no accessibility violation, CSP report or script
// error; 1 otherwise (the problems are listed at the end).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const lib = require("./lib");
const stories = require("./stories");
const federated = require("./federated");

async function main() {
  fs.mkdirSync(lib.ARTIFACTS, { recursive: true });
  const failures = [];
  const only = process.env.E2E_VIEWPORTS ? process.env.E2E_VIEWPORTS.split(",") : Object.keys(lib.VIEWPORTS);
  for (const vp of only) {
    const { width, height } = lib.VIEWPORTS[vp];
    let request = null;
    for (const [name, run] of [
      ["usager", async (b) => { request = await stories.citizen(b, vp); }],
      ["agent", async (b) => { if (!request) throw new Error("pas de demande : l'histoire de l'usager a échoué"); await stories.agent(b, vp, request); }],
      ["usager (suite)", async (b) => { if (!request) throw new Error("pas de demande"); await stories.citizenAfter(b, vp, request); }],
      ["administration", async (b) => { await stories.admin(b, vp); }],
      ...(process.env.E2E_FC_USER ? [["FranceConnect", async (b) => { await federated.franceconnect(b, vp); }]] : []),
    ]) {
      console.log(`\n[${vp} ${width}×${height}] histoire : ${name}`);
      const b = await lib.browser(vp);
      try {
        await run(b);
        console.log(`  ok`);
      } catch (e) {
        const shot = path.join(lib.ARTIFACTS, `${vp}-ECHEC-${name.replace(/\W+/g, "-")}.png`);
        await b.page.screenshot({ path: shot, fullPage: true }).catch(() => {});
        console.log(`  ÉCHEC : ${e.stack || e}`);
        failures.push(`[${vp}] ${name} : ${e.message}`);
      } finally {
        await b.close();
      }
    }
  }
  const report = [
    `pages vérifiées avec axe-core (${lib.checked.length}) :`,
    ...lib.checked.map((c) => "  " + c),
    `histoires en échec (${failures.length}) :`,
    ...failures.map((f) => "  " + f),
    `problèmes (${lib.problems.length}) :`,
    ...lib.problems.map((p) => "  " + p),
  ].join("\n");
  fs.writeFileSync(path.join(lib.ARTIFACTS, "rapport.txt"), report + "\n");
  console.log("\n" + report);
  if (failures.length > 0 || lib.problems.length > 0) {
    console.log("\nE2E : ÉCHEC");
    process.exit(1);
  }
  console.log("\nE2E : OK");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// FranceConnect in a real browser: the button on the login page, the provider's own login and
// consent pages (tools/oidc-provider, configured like FranceConnect v2), the first-login choice
// when the identity is new, the citizen's space, then logout from Liasse and from the provider.
// Runs when scripts/test.sh has registered the provider for the demo tenant (E2E_FC_USER set).
"use strict";

const assert = require("node:assert/strict");
const { BASE, check, expectText, submit } = require("./lib");

function step(text) {
  console.log("  - " + text);
}

async function franceconnect(b, vp) {
  const { page } = b;
  const user = process.env.E2E_FC_USER;
  const password = process.env.E2E_FC_PASSWORD || "liasse-test";
  step("le bouton FranceConnect de la page de connexion");
  await page.goto(BASE + "/connexion");
  await expectText(page, "Qu'est-ce que FranceConnect ?");
  await check(page, vp, "fc-01-connexion");
  await Promise.all([page.waitForNavigation(), page.click("a.fc-button[href^='/auth/franceconnect']")]);
  assert.ok(!page.url().startsWith(BASE), `chez le fournisseur d'identité : ${page.url()}`);

  step("la page de connexion et le consentement du fournisseur");
  await page.fill("input[name=login]", user);
  await page.fill("input[name=password]", password);
  await submit(page, "button[type=submit]");
  if (page.url().includes("/confirm") || (await page.$("form[action$='/confirm']"))) {
    await submit(page, "form[action$='/confirm'] button");
  }
  await page.waitForURL((u) => u.toString().startsWith(BASE), { timeout: 15000 });

  if (page.url().includes("/auth/premiere-connexion")) {
    step("première connexion : l'identité transmise, le compte créé");
    await check(page, vp, "fc-02-premiere-connexion");
    await expectText(page, "FranceConnect nous a transmis votre identité");
    await page.fill("#email", `${user}@example.org`);
    await submit(page, "form[action='/auth/premiere-connexion/creer'] button");
  }
  assert.match(page.url(), /\/documents$/, `l'espace de l'usager : ${page.url()}`);
  await check(page, vp, "fc-03-espace");

  step("le journal dit comment l'usager s'est connecté");
  await page.goto(BASE + "/journal");
  await expectText(page, "avec FranceConnect (niveau de garantie eidas1)");

  step("déconnexion de Liasse puis du fournisseur");
  await page.goto(BASE + "/documents");
  await Promise.all([page.waitForNavigation(), page.click('form[action="/deconnexion"] button')]);
  // Liasse's page goes on to the provider's end-session page by itself.
  await page.waitForURL((u) => !u.toString().startsWith(BASE), { timeout: 15000 });
  await page.waitForLoadState("load");
  const confirm = await page.$("button[name=logout], form button[type=submit]");
  if (confirm) await Promise.all([page.waitForNavigation(), confirm.click()]);
  await page.waitForURL((u) => u.toString().startsWith(BASE + "/auth/logged-out"), { timeout: 15000 });
  await expectText(page, "Vous êtes déconnecté");
  await check(page, vp, "fc-04-deconnecte");
  await page.goto(BASE + "/documents");
  assert.match(page.url(), /\/connexion/, "la session de Liasse est close");
}

module.exports = { franceconnect };

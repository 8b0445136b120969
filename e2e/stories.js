// The three stories of the issue: the citizen, the agent and the administrator, plus the
// citizen's follow-up (who read my documents, letters, notifications, offline list).
"use strict";

const assert = require("node:assert/strict");
const {
  BASE,
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
} = require("./lib");

const RUN = Date.now().toString(36).slice(-5);

function step(text) {
  console.log("  - " + text);
}

/** The value of the option of `select` whose label contains `text`. */
async function optionValue(page, select, text) {
  const value = await page.$eval(
    select,
    (el, t) => {
      const o = Array.from(el.options).find((x) => x.textContent.includes(t));
      return o ? o.value : null;
    },
    text,
  );
  assert.ok(value, `aucune option « ${text} » dans ${select}`);
  return value;
}

/** Uploads with the keyboard only: from the vault to the saved document. */
async function keyboardUpload(page, vp, title, file) {
  await page.goto(BASE + "/documents");
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await tabTo(page, 'main a[href="/documents/nouveau"]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  assert.match(page.url(), /\/documents\/nouveau$/);
  await check(page, vp, "citoyen-02-formulaire-depot");
  await tabTo(page, "#type");
  await keyboardSelect(page, "#type", "justificatif-domicile");
  await tabTo(page, "#title");
  await page.keyboard.type(title);
  await tabTo(page, "#file");
  await keyboardFile(page, file);
  await tabTo(page, 'main form button[type="submit"]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  assert.match(page.url(), /\/documents\/[0-9a-f-]+\?ok=depose$/, "le dépôt au clavier aboutit");
}

/** Uploads with the mouse: the type, the title, an optional printed date, the file. */
async function upload(page, type, title, file, validUntil) {
  await page.goto(BASE + "/documents/nouveau");
  await page.selectOption("#type", type);
  await page.fill("#title", title);
  if (validUntil) await page.fill("#valid_until", validUntil);
  await page.setInputFiles("#file", file);
  await submit(page, 'main form button[type="submit"]');
  assert.match(page.url(), /\?ok=depose$/, `dépôt de ${title}`);
  return page.url().match(/\/documents\/([0-9a-f-]+)/)[1];
}

/** The citizen: log in, upload a PDF and a photo, see validity, replace, delete, household,
 *  a request with attachments, grants given and revoked, the journal. Returns the request. */
async function citizen(b, vp) {
  const { page, context } = b;
  // Unique per run, so that the stories can run again on the same server.
  const suffix = `${vp === "telephone" ? "téléphone" : "ordinateur"} ${RUN}`;
  step("accueil et connexion");
  await page.goto(BASE + "/");
  await check(page, vp, "accueil");
  await expectText(page, "cerise-tambour-lune");
  await Promise.all([page.waitForNavigation(), page.click('main a[href="/connexion"]')]);
  await check(page, vp, "connexion");
  // A wrong password: a French error tied to the fields, nothing else.
  await page.fill("#login", "camille");
  await page.fill("#password", "pas-le-bon");
  await submit(page, 'main button[type="submit"]');
  await expectText(page, "Identifiant, mot de passe ou collectivité incorrect");
  assert.equal(await page.getAttribute("#login", "aria-invalid"), "true");
  await check(page, vp, "connexion-erreur");
  await login(page, "camille", "cerise-tambour-lune");
  assert.match(page.url(), /\/documents$/);
  await check(page, vp, "citoyen-01-mes-documents");

  step("dépôt d'un PDF au clavier seulement");
  const pdfTitle = `Facture d'électricité (${suffix})`;
  await keyboardUpload(page, vp, pdfTitle, { name: "facture.pdf", mimeType: "application/pdf", buffer: pdf("Facture EDF " + suffix) });
  await expectText(page, "Votre pièce a été déposée");
  await expectText(page, "En attente de vérification");
  await expectText(page, "Valable jusqu'au");
  await check(page, vp, "citoyen-03-piece-pdf");
  const pdfId = page.url().match(/\/documents\/([0-9a-f-]+)/)[1];

  step("dépôt d'une photo (carte d'identité, date imprimée)");
  const jpeg = await photo(context, "CARTE NATIONALE D'IDENTITÉ");
  const photoTitle = `Carte d'identité (${suffix})`;
  const photoId = await upload(page, "carte-nationale-identite", photoTitle, { name: "cni.jpg", mimeType: "image/jpeg", buffer: jpeg }, "2031-05-01");
  await expectText(page, "Valable jusqu'au 01/05/2031");
  const img = await page.$eval(".preview img", (i) => i.complete && i.naturalWidth > 0);
  assert.ok(img, "l'aperçu de la photo s'affiche");
  await check(page, vp, "citoyen-04-piece-photo");

  step("une pièce bientôt expirée et une pièce refusée à la saisie");
  const soonTitle = `Passeport (${suffix})`;
  await upload(page, "passeport", soonTitle, { name: "passeport.jpg", mimeType: "image/jpeg", buffer: jpeg }, isoDate(10));
  await expectText(page, "Bientôt expirée");
  // A printed-date type without its date: the error is tied to the date field.
  await page.goto(BASE + "/documents/nouveau");
  await page.selectOption("#type", "titre-sejour");
  await page.setInputFiles("#file", { name: "titre.pdf", mimeType: "application/pdf", buffer: pdf("Titre") });
  await submit(page, 'main form button[type="submit"]');
  assert.equal(await page.getAttribute("#valid_until", "aria-invalid"), "true");
  await expectText(page, "date de fin de validité");
  await check(page, vp, "citoyen-05-depot-refuse");

  step("le porte-documents par personne et par état");
  await page.goto(BASE + "/documents");
  await expectText(page, pdfTitle);
  await expectText(page, photoTitle);
  await expectText(page, "Bientôt expirées");
  await check(page, vp, "citoyen-06-porte-documents");

  step("remplacer le PDF par une nouvelle version");
  await page.goto(`${BASE}/documents/${pdfId}`);
  await page.setInputFiles("#file", { name: "facture-v2.pdf", mimeType: "application/pdf", buffer: pdf("Facture EDF v2 " + suffix) });
  await submit(page, 'form[action$="/remplacer"] button[type="submit"]');
  await expectText(page, "La nouvelle version a été enregistrée");
  await expectText(page, "Version 2 (actuelle)");
  await check(page, vp, "citoyen-07-nouvelle-version");

  step("supprimer une pièce, avec confirmation");
  const ribId = await upload(page, "rib", `RIB à supprimer (${suffix})`, { name: "rib.pdf", mimeType: "application/pdf", buffer: pdf("RIB") });
  await Promise.all([page.waitForNavigation(), page.click(`a[href="/documents/${ribId}/supprimer"]`)]);
  await check(page, vp, "citoyen-08-confirmer-suppression");
  await submit(page, 'main form button.danger');
  await expectText(page, "La pièce a été supprimée");
  const vault = await page.textContent("main");
  assert.ok(!vault.includes(`RIB à supprimer (${suffix})`), "la pièce supprimée n'est plus listée");
  const gone = await page.request.get(`${BASE}/documents/${ribId}/contenu`, { maxRedirects: 0 });
  assert.equal(gone.status(), 404, "le contenu d'une pièce supprimée n'est plus lisible");

  step("le foyer");
  await page.goto(BASE + "/foyer");
  await page.fill("#name", `Léa Martin (${suffix})`);
  await page.fill("#relation", "enfant");
  await page.fill("#birth_date", "2019-03-02");
  await submit(page, 'form[action="/foyer"] button[type="submit"]');
  await expectText(page, "La personne a été ajoutée");
  await check(page, vp, "citoyen-09-foyer");

  step("une demande : inscription scolaire");
  await page.goto(BASE + "/demandes");
  await check(page, vp, "citoyen-10-demandes");
  await submit(page, 'form:has(input[value="inscription-scolaire"]) button');
  await expectText(page, "Votre demande a été créée");
  const requestUrl = page.url().replace(/\?.*$/, "");
  const number = (await page.textContent("h1")).match(/\d{4}-\d+/)[0];
  await check(page, vp, "citoyen-11-demande-brouillon");
  // Nothing can be sent yet: the page says what is missing, with links.
  assert.equal(await page.$('form[action$="/envoyer"]'), null, "pas d'envoi d'une demande incomplète");
  await expectText(page, "Avant d'envoyer la demande");
  await page.check("#q-separated_parents-non");
  await page.check("#q-canteen-non");
  await page.fill("#q-school_year", "2026-2027");
  const child = await page.getAttribute("#membres input[name=members]", "value");
  await page.check(`#membres input[value="${child}"]`);
  await submit(page, 'form[action$="/reponses"] button');
  await expectText(page, "Vos réponses ont été enregistrées");
  for (const [req, title] of [["domicile", pdfTitle], ["identite", photoTitle]]) {
    const select = `#choix-exigence-${req}`;
    await page.selectOption(select, await optionValue(page, select, title));
    await submit(page, `#exigence-${req} form[action$="/joindre"] button`);
    await expectText(page, "La pièce a été jointe");
  }
  // The child's vaccination record, uploaded straight into the request.
  const vaccins = `#exigence-vaccins-${child}`;
  await page.click(`${vaccins} summary`);
  await page.setInputFiles(`${vaccins} input[type=file]`, { name: "carnet.pdf", mimeType: "application/pdf", buffer: pdf("Carnet de santé") });
  await submit(page, `${vaccins} form[action*="/deposer"] button`);
  await expectText(page, "La pièce a été jointe");
  await submit(page, 'form[action$="/envoyer"] button');
  await expectText(page, "Code de suivi");
  await check(page, vp, "citoyen-12-demande-envoyee");

  step("donner puis retirer un partage");
  await page.goto(BASE + "/partages");
  await page.selectOption("#domain", "social");
  await page.check(`input[name="documents"][value="${pdfId}"]`);
  await page.fill("#purpose", `Dossier d'aide sociale (${suffix})`);
  await submit(page, 'form[action="/partages"] button[type="submit"]');
  await expectText(page, "Le partage a été accordé");
  await check(page, vp, "citoyen-13-partage-accorde");
  const card = page.locator("li.card", { hasText: `Dossier d'aide sociale (${suffix})` });
  await expectText(page, "Actif", "main");
  await Promise.all([page.waitForNavigation(), card.locator("button.danger").click()]);
  await expectText(page, "Le partage a été retiré");
  assert.match(await page.locator("li.card", { hasText: `Dossier d'aide sociale (${suffix})` }).textContent(), /Retiré/);
  await check(page, vp, "citoyen-14-partage-retire");

  step("le journal en phrases");
  await page.goto(BASE + "/journal");
  await expectText(page, "Vous avez déposé votre justificatif de domicile le");
  await expectText(page, "Vous avez supprimé votre relevé d'identité bancaire (RIB)");
  await expectText(page, "Vous avez accordé un partage");
  await check(page, vp, "citoyen-15-journal");

  await page.goto(BASE + "/preferences");
  await check(page, vp, "citoyen-16-preferences");
  await logout(page);
  return { number, requestUrl, pdfId, photoId, pdfTitle, photoTitle };
}

/** The agent: dashboard, search, the request with previews, review with a reason (keyboard
 *  only), lock, note, letter, transition, the citizen's page and a counter deposit. */
async function agent(b, vp, r) {
  const { page, context } = b;
  step("connexion de l'agent, tableau de bord");
  await login(page, "agent", "cartable-orage-violet");
  assert.match(page.url(), /\/agent$/);
  await expectText(page, r.number);
  await check(page, vp, "agent-01-tableau-de-bord");

  step("recherche par nom de l'usager et par numéro");
  await page.fill("#q", "camille");
  await submit(page, 'form[role="search"] button');
  await expectText(page, r.number);
  await check(page, vp, "agent-02-recherche");
  await page.fill("#q", r.number);
  await submit(page, 'form[role="search"] button');
  await Promise.all([page.waitForNavigation(), page.click(`main a:has-text("${r.number}")`)]);
  await expectText(page, "Camille Martin");

  step("la demande : données et pièces en aperçu côte à côte");
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".preview img")).every((i) => i.complete));
  const images = await page.$$eval(".preview img", (l) => l.map((i) => i.naturalWidth));
  assert.ok(images.length >= 1 && images.every((w) => w > 0), "les photos jointes s'affichent en aperçu");
  assert.ok((await page.$$(".preview object[type='application/pdf']")).length >= 1, "le PDF joint est présenté dans un <object>");
  // The preview runs nothing from the document: its own CSP is a sandbox.
  const preview = await page.request.get(`${BASE}/documents/${r.pdfId}/apercu`);
  assert.equal(preview.status(), 200);
  assert.equal(preview.headers()["content-security-policy"], "sandbox; default-src 'none'");
  assert.equal(preview.headers()["content-disposition"], "inline");
  await check(page, vp, "agent-03-demande");

  step("verrouiller");
  await submit(page, 'form[action$="/verrou"] button');
  await expectText(page, "Vous avez verrouillé la demande");

  step("valider la pièce d'identité avec sa date");
  const idForm = `form[action="/agent/documents/${r.photoId}/examen"]`;
  await page.fill(`#valid-${r.photoId}`, "2031-05-01");
  await submit(page, `${idForm} button[type="submit"]`);
  await expectText(page, "La décision sur la pièce a été enregistrée");

  step("refuser le justificatif avec un motif, au clavier seulement");
  // Chromium's PDF viewer may take the focus once when it finishes loading: wait for it, and
  // start the keyboard sequence again if a key went to the viewer instead of the form.
  await page.waitForLoadState("networkidle");
  const reason = "Document illisible : la facture doit dater de moins de 3 mois";
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await tabTo(page, `#valider-${r.pdfId}`);
    await page.keyboard.press("ArrowDown");
    await tabTo(page, `#reason-${r.pdfId}`);
    await page.keyboard.type(reason);
    const ok = (await page.isChecked(`#refuser-${r.pdfId}`)) && (await page.inputValue(`#reason-${r.pdfId}`)) === reason;
    if (ok) break;
    assert.ok(attempt < 3, "au clavier : la flèche choisit « Refuser » et le motif se saisit");
    await page.fill(`#reason-${r.pdfId}`, "");
    await page.check(`#valider-${r.pdfId}`);
  }
  await tabTo(page, `form[action="/agent/documents/${r.pdfId}/examen"] button[type="submit"]`);
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  await expectText(page, "La décision sur la pièce a été enregistrée");
  await expectText(page, "Motif du refus : Document illisible");
  await check(page, vp, "agent-04-pieces-examinees");

  step("un refus sans motif est refusé et signalé sur le champ");
  await page.check(`#refuser-${r.photoId}`);
  await submit(page, `${idForm} button[type="submit"]`);
  await expectText(page, "Un refus doit être motivé");
  await check(page, vp, "agent-05-refus-sans-motif");

  step("note, courrier, changement d'état");
  await page.goto(`${BASE}/agent/demandes/${r.requestUrl.split("/").pop()}`);
  await page.fill("#note-body", "Pièce d'identité vérifiée au guichet.");
  await submit(page, 'form[action$="/notes"] button');
  await expectText(page, "La note a été ajoutée");
  await page.selectOption("#letter-template", "accuse-reception");
  await page.fill("#letter-text", "Merci de déposer un justificatif de domicile récent.");
  await submit(page, 'form[action$="/courrier"] button');
  await expectText(page, "Le courrier a été déposé");
  await page.check("#to-in_progress");
  await submit(page, 'form[action$="/etat"] button');
  await expectText(page, "L'état de la demande a été changé");
  await expectText(page, "En cours d'instruction");
  await check(page, vp, "agent-06-demande-en-cours");

  step("le dossier de l'usager et un dépôt au guichet");
  await Promise.all([page.waitForNavigation(), page.click('dd a[href^="/agent/usagers/"]')]);
  await check(page, vp, "agent-07-usager");
  await page.selectOption("#type", "certificat-scolarite");
  await page.check("#channel-counter");
  await page.fill("#title", `Certificat de scolarité apporté au guichet (${vp})`);
  await page.setInputFiles("#file", { name: "scan.jpg", mimeType: "image/jpeg", buffer: await photo(context, "CERTIFICAT DE SCOLARITÉ") });
  await submit(page, 'form[action$="/depot"] button');
  await expectText(page, "Le document a été déposé dans le porte-documents de l'usager");
  await page.goto(BASE + "/agent/guichet");
  await check(page, vp, "agent-08-guichet");
  await logout(page);
}

/** The citizen again: who read what (in plain French), the letter, the notifications, and the
 *  offline list of the installed app (never any document content in the caches). */
async function citizenAfter(b, vp, r) {
  const { page, context } = b;
  await login(page, "camille", "cerise-tambour-lune");
  step("le journal montre la consultation par l'agent, avec sa base");
  await page.goto(BASE + "/journal?autres=1");
  await expectText(page, "Dominique Petit (Service scolaire) a consulté votre carte nationale d'identité le");
  await expectText(page, `dans le cadre de la demande ${r.number}`);
  await expectText(page, "Dominique Petit (Service scolaire) a refusé votre justificatif de domicile");
  await check(page, vp, "citoyen-17-qui-a-consulte");

  step("le refus motivé, le courrier, les notifications");
  await page.goto(BASE + "/documents");
  await expectText(page, "Motif du refus : Document illisible");
  await page.goto(BASE + "/courriers");
  await expectText(page, `Accusé de réception de votre demande ${r.number}`);
  await check(page, vp, "citoyen-18-courriers");
  await page.goto(BASE + "/notifications");
  await expectText(page, "Pièce refusée : Justificatif de domicile");
  await check(page, vp, "citoyen-19-notifications");
  await page.goto(r.requestUrl);
  await expectText(page, "En cours d'instruction");

  step("application installable : la liste hors connexion, jamais le contenu");
  await page.goto(BASE + "/documents");
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.waitForFunction(async () => {
    const c = await caches.open("liasse-data-v1");
    return (await c.match("/documents.json")) !== undefined;
  });
  // Read a document while online: the content must not land in any cache.
  await page.goto(`${BASE}/documents/${r.photoId}`);
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".preview img")).every((i) => i.complete));
  await context.setOffline(true);
  await page.goto(BASE + "/documents").catch(() => {});
  await expectText(page, "Vous êtes hors connexion");
  await page.waitForFunction(() => document.querySelectorAll("#offline-list li").length > 0);
  await expectText(page, r.photoTitle);
  await check(page, vp, "citoyen-20-hors-connexion");
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) urls.push(req.url);
    }
    return urls;
  });
  await context.setOffline(false);
  assert.ok(cached.length > 0, "le service worker a mis en cache l'application");
  const leaked = cached.filter((u) => /\/(contenu|apercu|content)(\/|\?|$)|\/export/.test(u));
  assert.deepEqual(leaked, [], "aucun contenu de document dans les caches");
  await page.goto(BASE + "/documents");
  await logout(page);
}

/** The administrator: add a document type, a procedure with a condition and its preview,
 *  agents and rights, branding. */
async function admin(b, vp) {
  const { page } = b;
  const code = `attestation-cantine-${vp}-${RUN}`;
  const proc = `inscription-cantine-${vp}-${RUN}`;
  step("connexion de l'administratrice");
  await login(page, "admin", "phare-grenier-olive");
  assert.match(page.url(), /\/admin$/);
  await check(page, vp, "admin-01-accueil");

  step("ajouter un type de pièce");
  await page.goto(BASE + "/admin/types");
  await check(page, vp, "admin-02-types");
  await Promise.all([page.waitForNavigation(), page.click('main a[href="/admin/types/nouveau"]')]);
  await page.fill("#code", code);
  await page.fill("#label", `Attestation de la cantine (${vp})`);
  await page.selectOption("#domain", "scolaire");
  await page.check("#validity-duration");
  await page.fill("#duration", "P1Y");
  await check(page, vp, "admin-03-nouveau-type");
  await submit(page, 'form[action="/admin/types"] button[type="submit"]');
  await expectText(page, "Le type de pièce a été enregistré");
  await expectText(page, `Attestation de la cantine (${vp})`);
  // A bad duration is refused next to its field.
  await page.goto(`${BASE}/admin/types/${code}`);
  await page.fill("#duration", "3 mois");
  await submit(page, 'form[action="/admin/types"] button[type="submit"]');
  assert.equal(await page.getAttribute("#duration", "aria-invalid"), "true");
  await check(page, vp, "admin-04-type-erreur");

  step("ajouter une démarche avec une condition");
  await page.goto(BASE + "/admin/demarches");
  await check(page, vp, "admin-05-demarches");
  await Promise.all([page.waitForNavigation(), page.click('main a[href="/admin/demarches/nouvelle"]')]);
  await page.fill("#code", proc);
  await page.fill("#title", `Inscription à la cantine (${vp})`);
  await page.selectOption("#domain", "scolaire");
  await page.fill("#questions", "canteen: boolean\nchildren: number");
  await page.fill("#req-0-key", "domicile");
  await page.selectOption("#req-0-type", "justificatif-domicile");
  await page.fill("#req-1-key", "attestation");
  await page.selectOption("#req-1-type", code);
  await page.fill("#req-1-condition", "answers.canteen == true && household.children > 0");
  // First a mistake in the condition: refused with its position, tied to the field.
  await page.fill("#req-2-key", "erreur");
  await page.selectOption("#req-2-type", "rib");
  await page.fill("#req-2-condition", "answers.canteen ==");
  await submit(page, 'form[action="/admin/demarches"] button[type="submit"]');
  assert.equal(await page.getAttribute("#req-2-condition", "aria-invalid"), "true");
  await expectText(page, "position");
  await check(page, vp, "admin-06-condition-erreur");
  await page.fill("#req-2-key", "");
  await page.fill("#req-2-condition", "");
  await submit(page, 'form[action="/admin/demarches"] button[type="submit"]');
  await expectText(page, "La démarche a été enregistrée");

  step("aperçu : la condition évaluée sur des réponses d'exemple");
  await page.fill("#reponses", '{"canteen": true}');
  await page.fill("#enfants", "2");
  await page.fill("#condition-test", "answers.canteen == false");
  await submit(page, 'form[action$="#apercu"] button');
  await expectText(page, `answers.canteen == true && household.children > 0) : demandée`);
  await expectText(page, "La condition est fausse");
  await check(page, vp, "admin-07-apercu");
  await page.fill("#reponses", '{"canteen": false}');
  await submit(page, 'form[action$="#apercu"] button');
  await expectText(page, "household.children > 0) : non demandée");

  step("agents, droits, apparence");
  await page.goto(BASE + "/admin/agents");
  await expectText(page, "Dominique Petit");
  await check(page, vp, "admin-08-agents");
  await page.goto(BASE + "/admin/apparence");
  await page.fill("#brand_primary", "red");
  await submit(page, 'form[action="/admin/apparence"] button');
  assert.equal(await page.getAttribute("#brand_primary", "aria-invalid"), "true", "une couleur hors #rrggbb est refusée");
  await page.fill("#brand_primary", vp === "telephone" ? "#0b6e4f" : "#1d4f91");
  await submit(page, 'form[action="/admin/apparence"] button');
  await expectText(page, "L'apparence a été enregistrée");
  const css = await (await page.request.get(BASE + "/theme/demo/brand.css")).text();
  assert.ok(css.includes(vp === "telephone" ? "#0b6e4f" : "#1d4f91"), "la couleur est servie dans le thème");
  await check(page, vp, "admin-09-apparence");
  await logout(page);
}

module.exports = { citizen, agent, citizenAfter, admin };

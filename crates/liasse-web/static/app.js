// Liasse: the only script of the pages. Everything works without it; it adds the service
// worker (offline list of documents' names and states) and a few conveniences.
"use strict";
(function () {
  var DATA_CACHE = "liasse-data-v1";

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After a refused form, move the focus to the list of errors (screen readers announce it).
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }

    // Logging out forgets the offline copy of the list of documents.
    var logout = document.querySelector('form[action="/deconnexion"]');
    if (logout && window.caches) {
      logout.addEventListener("submit", function () { caches.delete(DATA_CACHE); });
    }

    // The vault page keeps the offline copy of the list up to date (through the service
    // worker, which stores only this list of names and states).
    if (window.location.pathname === "/documents" && navigator.onLine) {
      fetch("/documents.json", { credentials: "same-origin" }).catch(function () {});
    }

    // The offline page shows the last list of documents seen online (names and states only).
    var list = document.getElementById("offline-list");
    if (list) { showOffline(list); }
  });

  function showOffline(list) {
    var status = document.getElementById("offline-status");
    fetch("/documents.json", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) {
        list.textContent = "";
        if (!data.documents || data.documents.length === 0) {
          status.textContent = "Aucune liste enregistrée sur cet appareil.";
          return;
        }
        status.textContent = "Liste enregistrée le " + data.generated_at + " (" + data.documents.length + " pièce(s)).";
        data.documents.forEach(function (d) {
          var li = document.createElement("li");
          li.className = "card";
          var title = document.createElement("p");
          var strong = document.createElement("strong");
          strong.textContent = d.title;
          title.appendChild(strong);
          var meta = document.createElement("p");
          meta.className = "meta";
          meta.textContent = d.person + " · " + d.type + " · " + d.state + (d.valid_until ? " · valable jusqu'au " + d.valid_until : "");
          li.appendChild(title);
          li.appendChild(meta);
          list.appendChild(li);
        });
      })
      .catch(function () {
        status.textContent = "Aucune liste enregistrée sur cet appareil. Connectez-vous une fois en ligne pour l'enregistrer.";
      });
  }
})();

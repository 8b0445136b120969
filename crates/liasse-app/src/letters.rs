//! Letters to citizens: a template with variables, rendered as a PDF and deposited into the
//! citizen's vault as a `courrier`.

use liasse_domain::clock::date_of;
use liasse_domain::policy::Access;
use serde::Deserialize;

use crate::app::App;
use crate::auth::Principal;
use crate::documents::{DepositInput, DocumentView};
use crate::error::{AppError, Result};
use crate::requests;
use crate::upload::Spool;

/// Built-in templates: (id, subject, body). Variables: {{numero}}, {{demarche}}, {{nom}},
/// {{date}}, {{date_depot}}, {{etat}}, {{service}}, {{texte}}, {{collectivite}}.
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "accuse-reception",
        "Accusé de réception de votre demande {{numero}}",
        "Madame, Monsieur {{nom}},\n\nNous avons bien reçu le {{date_depot}} votre demande « {{demarche}} », enregistrée sous le numéro {{numero}}. Elle est en cours d'instruction.\n\n{{texte}}\n\n{{service}}\n{{collectivite}}",
    ),
    (
        "demande-acceptee",
        "Votre demande {{numero}} est acceptée",
        "Madame, Monsieur {{nom}},\n\nNous avons le plaisir de vous informer que votre demande « {{demarche}} » (numéro {{numero}}) a été acceptée le {{date}}.\n\n{{texte}}\n\n{{service}}\n{{collectivite}}",
    ),
    (
        "demande-refusee",
        "Votre demande {{numero}}",
        "Madame, Monsieur {{nom}},\n\nNous avons examiné votre demande « {{demarche}} » (numéro {{numero}}). Nous ne pouvons pas y donner une suite favorable pour la raison suivante :\n\n{{texte}}\n\nVous pouvez contester cette décision dans un délai de deux mois.\n\n{{service}}\n{{collectivite}}",
    ),
    (
        "libre",
        "{{texte_objet}}",
        "Madame, Monsieur {{nom}},\n\n{{texte}}\n\n{{service}}\n{{collectivite}}",
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLetter {
    pub template: String,
    /// Free text inserted as {{texte}}.
    #[serde(default)]
    pub text: String,
    /// Subject for the free template.
    #[serde(default)]
    pub subject: String,
}

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

/// Writes a letter for a request and deposits it into the citizen's vault.
pub async fn write(
    app: &App,
    p: &Principal,
    request_id: &str,
    l: NewLetter,
) -> Result<DocumentView> {
    let r = requests::get(app, p, request_id).await?;
    p.authorize(&Access::WriteLetter(&r.record(&p.tenant_id)))?;
    let (_, subject_t, body_t) = TEMPLATES
        .iter()
        .find(|(id, ..)| *id == l.template)
        .ok_or_else(|| AppError::invalid("unknown-template", "modèle de courrier inconnu : accuse-reception, demande-acceptee, demande-refusee ou libre"))?;
    if l.text.chars().count() > 10_000 || l.subject.chars().count() > 200 {
        return Err(AppError::invalid(
            "letter-too-long",
            "le texte du courrier est trop long",
        ));
    }
    let citizen = liasse_store::accounts::by_id(&app.db, &p.tenant_id, &r.citizen_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tenant = liasse_store::tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = date_of(app.now());
    let fr_date = |d: time::Date| format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year());
    let vars = [
        ("numero", r.number.clone()),
        ("demarche", r.procedure_title.clone()),
        ("nom", citizen.display_name.clone()),
        ("date", fr_date(today)),
        (
            "date_depot",
            r.submitted_at
                .as_deref()
                .and_then(|s| s.get(..10))
                .map(|s| s.split('-').rev().collect::<Vec<_>>().join("/"))
                .unwrap_or_default(),
        ),
        ("etat", r.state.clone()),
        (
            "service",
            if p.service.is_empty() {
                p.display_name.clone()
            } else {
                p.service.clone()
            },
        ),
        ("texte", l.text.clone()),
        ("texte_objet", l.subject.clone()),
        ("collectivite", tenant.name.clone()),
    ];
    let subject = fill(subject_t, &vars);
    let body = fill(body_t, &vars);
    let pdf = render_pdf(&tenant.name, &fr_date(today), &subject, &body);
    let mut spool = Spool::new(app, &p.tenant_id, pdf.len() as u64 + 1)?;
    spool.write(&pdf).await?;
    let spooled = spool.finish().await?;
    let input = DepositInput {
        type_code: "courrier".into(),
        title: Some(subject),
        file_name: Some(format!("courrier-{}.pdf", r.number)),
        metadata: Some(
            serde_json::json!({ "request": r.id, "request_number": r.number, "template": l.template }),
        ),
        ..DepositInput::default()
    };
    crate::deposit::deposit(
        app,
        p,
        crate::deposit::Vault::Of(&r.citizen_id),
        input,
        spooled,
    )
    .await
}

/// A one-column A4 letter in Helvetica. Hand-written PDF: small, deterministic, and accepted
/// by our own upload inspection.
pub fn render_pdf(sender: &str, date: &str, subject: &str, body: &str) -> Vec<u8> {
    let mut lines: Vec<(u8, String)> = vec![
        (12, sender.to_string()),
        (10, String::new()),
        (10, format!("Le {date}")),
        (10, String::new()),
        (12, format!("Objet : {subject}")),
        (10, String::new()),
    ];
    for para in body.split('\n') {
        if para.trim().is_empty() {
            lines.push((10, String::new()));
            continue;
        }
        for l in wrap(para, 95) {
            lines.push((10, l));
        }
    }
    let per_page = 52;
    let pages: Vec<&[(u8, String)]> = lines.chunks(per_page).collect();
    let n = pages.len().max(1);
    // Objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, page) in pages.iter().enumerate() {
        let mut content = b"BT 56 780 Td 15 TL\n".to_vec();
        for (size, text) in page.iter() {
            content.extend_from_slice(format!("/F1 {size} Tf (").as_bytes());
            content.extend_from_slice(&pdf_string(text));
            content.extend_from_slice(b") Tj T*\n");
        }
        content.extend_from_slice(b"ET");
        objects.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", 5 + 2 * i).into_bytes());
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(obj);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Text as a PDF literal string in WinAnsiEncoding.
fn pdf_string(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let b: u8 = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '’' => 0x92,
            '‘' => 0x91,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'œ' => 0x9c,
            'Œ' => 0x8c,
            '…' => 0x85,
            _ => b'?',
        };
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn letters_pass_our_own_inspection() {
        let body = "Madame, Monsieur Camille Martin,\n\nVotre demande « Inscription scolaire » (numéro 2026-000001) est acceptée. L'élève est attendu(e) le 1er septembre à l'école Jean-Jaurès — n'oubliez pas le carnet de santé.\n".repeat(20);
        let pdf = render_pdf("Ville de Démo", "15/01/2026", "Objet (test)", &body);
        let got = liasse_inspect::inspect_bytes(
            &pdf,
            &[liasse_inspect::Format::Pdf],
            &liasse_inspect::Limits::default(),
        )
        .unwrap();
        assert_eq!(got.format, liasse_inspect::Format::Pdf);
        assert!(got.pages.unwrap() >= 2);
    }
}

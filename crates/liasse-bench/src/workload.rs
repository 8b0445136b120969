//! Set-up of the bench tenant over the API, list and match latency, and the mixed load.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, pdf_part};
use crate::stats::{Samples, r3};
use crate::{Result, pdf};

/// Document type of the large uploads and of the memory benchmark.
pub const LARGE_TYPE: &str = "bench-large";
/// Document type of the small uploads and the load.
pub const PIECE_TYPE: &str = "bench-piece";
/// The agents' domain of the bench types and procedure.
pub const DOMAIN: &str = "bench";
pub const PROCEDURE: &str = "bench-dossier";
/// The procedure's requirements: catalogue types plus the bench's own.
pub const PROCEDURE_TYPES: [(&str, &str); 5] = [
    ("domicile", "justificatif-domicile"),
    ("impots", "avis-imposition"),
    ("rib", "rib"),
    ("famille", "livret-famille"),
    ("piece", PIECE_TYPE),
];

fn expect_ok(what: &str, r: &crate::api::Reply) -> Result<()> {
    if r.ok() {
        Ok(())
    } else {
        Err(format!("{what}: {}", r.describe()).into())
    }
}

/// Creates the bench's document types and procedure (an admin token).
pub async fn setup(api: &Api, admin: &str) -> Result<()> {
    for (code, label, max) in [
        (LARGE_TYPE, "Gros fichier (banc d'essai)", 2_147_483_648u64),
        (PIECE_TYPE, "Pièce (banc d'essai)", 10_485_760),
    ] {
        let def = json!({
            "label": label,
            "domain": DOMAIN,
            "validity": "unlimited",
            "formats": ["pdf"],
            "max_size": max,
            "review_required": true,
            "depositors": ["citizen", "agent"],
        });
        let r = api
            .send_json(
                Method::PUT,
                admin,
                &format!("/api/v1/document-types/{code}"),
                &def,
            )
            .await?;
        expect_ok(&format!("PUT document type {code}"), &r)?;
    }
    let requirements: Vec<Value> = PROCEDURE_TYPES
        .iter()
        .map(|(key, t)| json!({ "key": key, "type": t, "mandatory": *key != "famille" }))
        .collect();
    let proc_ = json!({
        "title": "Dossier de référence (banc d'essai)",
        "domain": DOMAIN,
        "requirements": requirements,
    });
    let r = api
        .send_json(
            Method::PUT,
            admin,
            &format!("/api/v1/procedures/{PROCEDURE}"),
            &proc_,
        )
        .await?;
    expect_ok("PUT procedure", &r)
}

/// Runs `f` `warmup` times unmeasured, then `iterations` times, one after the other.
async fn latency<F, Fut>(warmup: usize, iterations: usize, mut f: F) -> Result<Samples>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    for _ in 0..warmup {
        f().await?;
    }
    let mut s = Samples::default();
    for _ in 0..iterations {
        let start = Instant::now();
        f().await?;
        s.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(s)
}

pub struct ListMatchArgs<'a> {
    pub api: &'a Api,
    pub token: &'a str,
    pub docs: usize,
    pub doc_size: usize,
    pub warmup: usize,
    pub iterations: usize,
    /// Rows in the database (counted by run.sh), reported as they are.
    pub database: Value,
}

/// The measured citizen deposits `docs` real documents over the procedure's types and starts
/// a request; then the vault listing and the request (requirements with the citizen's
/// candidate documents) are fetched one after the other.
pub async fn list_match(a: ListMatchArgs<'_>) -> Result<Value> {
    let template = pdf::bytes(a.doc_size, 0);
    for i in 0..a.docs {
        let (_, type_code) = PROCEDURE_TYPES[i % PROCEDURE_TYPES.len()];
        let mut content = template.clone();
        pdf::retag(&mut content, 0x11_0000 + i as u64);
        let part = pdf_part(content.into(), &format!("piece-{i}.pdf"))?;
        let r = a
            .api
            .upload(a.token, type_code, &format!("Pièce {i}"), part)
            .await?;
        expect_ok(&format!("deposit {i} ({type_code})"), &r)?;
    }
    let r = a
        .api
        .send_json(
            Method::POST,
            a.token,
            "/api/v1/requests",
            &json!({ "procedure": PROCEDURE, "answers": {} }),
        )
        .await?;
    expect_ok("POST request", &r)?;
    let request_id = r.str_field("id").ok_or("the new request has no id")?;
    // What the two calls return, once, to show the work they do.
    let listing = a.api.get(a.token, "/api/v1/documents").await?;
    expect_ok("GET documents", &listing)?;
    let listed = listing.body.as_array().map_or(0, Vec::len);
    let request_path = format!("/api/v1/requests/{request_id}");
    let view = a.api.get(a.token, &request_path).await?;
    expect_ok("GET request", &view)?;
    let requirements = view
        .body
        .get("requirements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let candidates: usize = requirements
        .iter()
        .map(|r| {
            r.get("candidates")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum();
    eprintln!(
        "list-match: {listed} documents listed; request with {} requirements and {candidates} candidates",
        requirements.len()
    );
    let api = a.api;
    let token = a.token;
    let list = latency(a.warmup, a.iterations, || async move {
        let r = api.get(token, "/api/v1/documents").await?;
        expect_ok("GET documents", &r)
    })
    .await?;
    let rp = request_path.as_str();
    let matching = latency(a.warmup, a.iterations, || async move {
        let r = api.get(token, rp).await?;
        expect_ok("GET request", &r)
    })
    .await?;
    Ok(json!({
        "database": a.database,
        "citizen_documents": listed,
        "request": { "requirements": requirements.len(), "candidates": candidates },
        "iterations": a.iterations,
        "warmup": a.warmup,
        "list": list.summary(),
        "match": matching.summary(),
    }))
}

/// xorshift64*: a small, seeded, good-enough generator for choosing operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub struct LoadArgs<'a> {
    pub api: &'a Api,
    pub citizens: &'a [String],
    pub agent: &'a str,
    pub clients: usize,
    pub secs: f64,
    pub size: usize,
    pub grant_until: &'a str,
}

const OPS: [(&str, u32); 4] = [
    ("list", 30),
    ("download", 30),
    ("upload", 20),
    ("review", 20),
];

#[derive(Default)]
struct OpTally {
    latency: Samples,
    errors: u64,
    samples: Vec<String>,
}

/// `clients` tasks, each acting for one citizen (round robin over the tokens) or as the
/// agent, mixing vault listings, downloads, 200 KB uploads and reviews for `secs`.
pub async fn load(a: LoadArgs<'_>) -> Result<Value> {
    let n = a.citizens.len().min(a.clients).max(1);
    let citizens: Vec<String> = a.citizens.iter().take(n).cloned().collect();
    if citizens.is_empty() {
        return Err("no citizen tokens".into());
    }
    let template = Arc::new(pdf::bytes(a.size, 0));
    // Each citizen shares the bench type with the bench domain's agents and has documents.
    eprintln!("load: preparing {n} citizens (grants, two documents each)");
    let mut pools = Vec::new();
    for (i, token) in citizens.iter().enumerate() {
        let r = a
            .api
            .send_json(
                Method::POST,
                token,
                "/api/v1/grants",
                &json!({
                    "domain": DOMAIN,
                    "types": [PIECE_TYPE],
                    "purpose": "Banc d'essai : instruction des pièces",
                    "until": a.grant_until,
                }),
            )
            .await?;
        expect_ok(&format!("grant of citizen {i}"), &r)?;
        let listing = a.api.get(token, "/api/v1/documents").await?;
        expect_ok("GET documents", &listing)?;
        let mut ids: Vec<String> = listing
            .body
            .as_array()
            .map(|v| {
                v.iter()
                    .filter(|d| d.get("type").and_then(Value::as_str) == Some(PIECE_TYPE))
                    .filter_map(|d| d.get("id").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        while ids.len() < 2 {
            let mut c = template.to_vec();
            pdf::retag(&mut c, 0x22_0000 + (i * 2 + ids.len()) as u64);
            let r = a
                .api
                .upload(token, PIECE_TYPE, "Pièce", pdf_part(c.into(), "piece.pdf")?)
                .await?;
            expect_ok("deposit", &r)?;
            ids.push(r.str_field("id").ok_or("deposit without id")?);
        }
        pools.push(Mutex::new(ids));
    }
    let pools = Arc::new(pools);
    let citizens = Arc::new(citizens);
    eprintln!("load: {} clients for {}s", a.clients, a.secs);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(a.secs);
    let total_weight: u32 = OPS.iter().map(|(_, w)| w).sum();
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let api = a.api.clone();
        let pools = pools.clone();
        let citizens = citizens.clone();
        let agent = a.agent.to_string();
        let template = template.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (c as u64 + 1).wrapping_mul(0x1000_0001));
            let me = c % citizens.len();
            let mut tallies: Vec<OpTally> = OPS.iter().map(|_| OpTally::default()).collect();
            while Instant::now() < deadline {
                let mut pick = (rng.next() % u64::from(total_weight)) as u32;
                let mut op = 0;
                for (i, (_, w)) in OPS.iter().enumerate() {
                    if pick < *w {
                        op = i;
                        break;
                    }
                    pick -= w;
                }
                let s = Instant::now();
                let result: Result<crate::api::Reply> = match OPS[op].0 {
                    "list" => api.get(&citizens[me], "/api/v1/documents").await,
                    "download" => {
                        let id = pick_doc(&pools[me], &mut rng);
                        match id {
                            Some(id) => match api.download(&citizens[me], &id, |_| {}).await {
                                Ok((status, _)) => Ok(crate::api::Reply {
                                    status,
                                    body: Value::Null,
                                }),
                                Err(e) => Err(e),
                            },
                            None => continue,
                        }
                    }
                    "upload" => {
                        let content = crate::uploads::unique(&template);
                        match pdf_part(content, "piece.pdf") {
                            Ok(part) => {
                                let r = api.upload(&citizens[me], PIECE_TYPE, "Pièce", part).await;
                                if let Ok(reply) = &r
                                    && let Some(id) = reply.str_field("id")
                                    && let Ok(mut pool) = pools[me].lock()
                                {
                                    pool.push(id);
                                }
                                r
                            }
                            Err(e) => Err(e),
                        }
                    }
                    _ => {
                        let owner = rng.below(citizens.len());
                        match pick_doc(&pools[owner], &mut rng) {
                            Some(id) => {
                                api.send_json(
                                    Method::POST,
                                    &agent,
                                    &format!("/api/v1/documents/{id}/review"),
                                    &json!({ "decision": "validated" }),
                                )
                                .await
                            }
                            None => continue,
                        }
                    }
                };
                let ms = s.elapsed().as_secs_f64() * 1000.0;
                let t = &mut tallies[op];
                t.latency.push(ms);
                let failure = match result {
                    Ok(r) if r.ok() => None,
                    Ok(r) => Some(r.describe()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(f) = failure {
                    t.errors += 1;
                    if t.samples.len() < 3 {
                        t.samples.push(f);
                    }
                }
            }
            tallies
        }));
    }
    let mut totals: Vec<OpTally> = OPS.iter().map(|_| OpTally::default()).collect();
    for task in tasks {
        for (i, t) in task.await?.into_iter().enumerate() {
            totals[i].latency.extend(&t.latency);
            totals[i].errors += t.errors;
            for s in t.samples {
                if totals[i].samples.len() < 3 {
                    totals[i].samples.push(s);
                }
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut all = Samples::default();
    let mut per_op = serde_json::Map::new();
    let mut errors = 0;
    for (i, t) in totals.iter().enumerate() {
        all.extend(&t.latency);
        errors += t.errors;
        per_op.insert(
            OPS[i].0.to_string(),
            json!({
                "requests": t.latency.len(),
                "errors": t.errors,
                "per_s": r3(t.latency.len() as f64 / elapsed),
                "latency": t.latency.summary(),
                "error_samples": t.samples,
            }),
        );
    }
    Ok(json!({
        "clients": a.clients,
        "citizens": citizens.len(),
        "secs": r3(elapsed),
        "requests": all.len(),
        "errors": errors,
        "per_s": r3(all.len() as f64 / elapsed),
        "latency": all.summary(),
        "operations": per_op,
        "mix": OPS.iter().map(|(n, w)| json!({ "op": n, "weight_percent": w })).collect::<Vec<_>>(),
    }))
}

fn pick_doc(pool: &Mutex<Vec<String>>, rng: &mut Rng) -> Option<String> {
    let pool = pool.lock().ok()?;
    let i = rng.below(pool.len());
    pool.get(i).cloned()
}

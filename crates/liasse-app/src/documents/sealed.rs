//! A version's encryption: its blob written through the encryptor, its key wrapped by the key ring, its metadata sealed with its own key; and the way back.

use super::*;

pub(super) fn binding<'a>(
    tenant_id: &'a str,
    document_id: &'a str,
    version_id: &'a str,
) -> Binding<'a> {
    Binding {
        tenant: tenant_id,
        document: document_id,
        version: version_id,
    }
}

pub(super) fn seal_meta(key: &DataKey, b: &Binding, meta: &SealedMeta) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(meta).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(liasse_crypto::seal(key, b, &json)?)
}

/// Opens a version's key and metadata; `None` for destroyed versions.
pub fn open_version(app: &App, v: &VersionRow) -> Result<Option<(DataKey, SealedMeta)>> {
    let Some(wrapped) = &v.wrapped_key else {
        return Ok(None);
    };
    let b = binding(&v.tenant_id, &v.document_id, &v.id);
    let ring = app.keys.ring()?;
    let key = ring.unwrap(&WrappedKey::from_bytes(wrapped)?, &b)?;
    let meta = match &v.sealed_meta {
        Some(sealed) => {
            serde_json::from_slice(&liasse_crypto::open(&key, &b, sealed)?).unwrap_or_default()
        }
        None => SealedMeta::default(),
    };
    Ok(Some((key, meta)))
}

/// Publishes the spooled blob of a new version and returns its (not yet committed) row, made
/// at `now`. The spool was encrypted with the version's key as it arrived, so the blob is
/// written once; the caller commits the row afterwards and deletes the blob if that fails.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_version(
    app: &App,
    p: &Principal,
    doc: &DocumentRow,
    number: i64,
    spooled: Spooled,
    inspection: Inspection,
    meta: &SealedMeta,
    now: i64,
) -> Result<VersionRow> {
    // An upload read before its document was known (a first deposit's spool turned into a
    // new version) is bound to another document: bind it to this one.
    let spooled = if spooled.ids.tenant_id == doc.tenant_id && spooled.ids.document_id == doc.id {
        spooled
    } else if spooled.ids.tenant_id == doc.tenant_id {
        spooled.rebind(app, &doc.id).await?
    } else {
        spooled.discard().await;
        return Err(AppError::Internal(
            "upload spooled for another tenant".into(),
        ));
    };
    let version_id = spooled.ids.version_id.clone();
    let b = binding(&doc.tenant_id, &doc.id, &version_id);
    let sealed = seal_meta(&spooled.key, &b, meta);
    let wrapped = app.keys.ring().and_then(|r| Ok(r.wrap(&spooled.key, &b)?));
    let digest = spooled
        .key
        .digester()
        .of_sha256_hex(&spooled.sha256)
        .ok_or_else(|| AppError::Internal("upload: malformed SHA-256".into()));
    let (sealed, wrapped, digest) = match (sealed, wrapped, digest) {
        (Ok(s), Ok(w), Ok(d)) => (s, w, d),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            spooled.discard().await;
            return Err(e);
        }
    };
    let blob_key = spooled.blob.key().to_string();
    let size = spooled.size;
    // `publish` leaves nothing behind when it fails (a full disk included).
    spooled.blob.publish().await?;
    Ok(VersionRow {
        id: version_id,
        tenant_id: doc.tenant_id.clone(),
        document_id: doc.id.clone(),
        version: number,
        blob_key,
        size: i64::try_from(size).unwrap_or(i64::MAX),
        media_type: inspection.media_type.to_string(),
        digest,
        key_id: Some(wrapped.key_id.clone()),
        wrapped_key: Some(wrapped.to_bytes()),
        sealed_meta: Some(sealed),
        created_at: now,
        created_by: p.account_id.clone(),
        destroyed_at: None,
    })
}

/// Decrypts a stored version as a stream; every segment is authenticated before its bytes
/// are released.
pub async fn decrypt_stream(
    app: &App,
    v: &VersionRow,
    key: DataKey,
) -> Result<BoxStream<'static, Result<Bytes>>> {
    let b = binding(&v.tenant_id, &v.document_id, &v.id);
    let dec = Decryptor::new(&key, &b);
    let blob = match app.blobs.open_read(&v.blob_key).await? {
        BlobReader::File(file) => {
            // A small document needs a buffer of its own size, not of a whole chunk.
            let blob_len = liasse_crypto::ciphertext_len(u64::try_from(v.size).unwrap_or(0));
            let chunk = usize::try_from(blob_len).map_or(DECRYPT_CHUNK, |n| n.min(DECRYPT_CHUNK));
            return Ok(decrypt_file(file, dec, chunk));
        }
        BlobReader::Stream(blob) => blob,
    };
    let stream = futures::stream::try_unfold((blob, Some(dec)), |(mut blob, dec)| async move {
        let Some(mut dec) = dec else { return Ok(None) };
        loop {
            match blob.next().await {
                Some(chunk) => {
                    let out = dec.push(&chunk?)?;
                    if !out.is_empty() {
                        return Ok(Some((Bytes::from(out), (blob, Some(dec)))));
                    }
                }
                None => {
                    let out = dec.finish()?;
                    return Ok(Some((Bytes::from(out), (blob, None))));
                }
            }
        }
    });
    Ok(stream.map_err(|e: AppError| e).boxed())
}

/// Ciphertext read and decrypted per blocking call for a local blob: eight sealed segments,
/// so each call releases about half a MiB of plaintext.
pub(super) const DECRYPT_CHUNK: usize = 8 * (liasse_crypto::SEGMENT_SIZE + 16);

/// Decrypts a local blob: each step reads a chunk and decrypts it on a blocking thread (the
/// decryption of half a MiB would otherwise hold an async worker), and hands out only
/// verified plaintext.
pub(super) fn decrypt_file(
    file: std::fs::File,
    dec: Decryptor,
    chunk: usize,
) -> BoxStream<'static, Result<Bytes>> {
    struct State {
        file: std::fs::File,
        dec: Decryptor,
        buf: Vec<u8>,
        chunk: usize,
    }
    let first = Some(State {
        file,
        dec,
        buf: Vec::with_capacity(chunk),
        chunk,
    });
    futures::stream::try_unfold(first, |state| async move {
        let Some(mut st) = state else {
            return Ok(None);
        };
        let step = tokio::task::spawn_blocking(move || {
            loop {
                st.buf.clear();
                liasse_store::blobs::read_up_to(&mut st.file, &mut st.buf, st.chunk.max(1))?;
                if st.buf.is_empty() {
                    return Ok::<_, AppError>((st.dec.finish()?, None));
                }
                let out = st.dec.push(&st.buf)?;
                if !out.is_empty() {
                    return Ok((out, Some(st)));
                }
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        Ok(match step {
            (out, None) if out.is_empty() => None,
            (out, next) => Some((Bytes::from(out), next)),
        })
    })
    .boxed()
}

/// Decrypts a version fully and returns its keyed fingerprint (verify and check).
pub async fn fingerprint(app: &App, v: &VersionRow) -> Result<String> {
    let (key, _) = open_version(app, v)?.ok_or(AppError::NotFound)?;
    let digester = key.digester();
    let mut stream = decrypt_stream(app, v, key).await?;
    let mut h = Sha256::new();
    while let Some(chunk) = stream.next().await {
        h.update(&chunk?);
    }
    Ok(digester.of_sha256(&h.finalize()))
}

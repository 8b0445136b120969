//! Counter mode: several scanned pages (images or PDFs) assembled into one PDF document.
//! Every page is inspected first, like any upload, so nothing active reaches the result.

use std::io::{Read, Seek, SeekFrom, Write};

use lopdf::{Dictionary, Document, Object, Stream, dictionary};

use crate::app::App;
use crate::error::{AppError, Result};
use crate::upload::{Spool, Spooled};

const MAX_PAGES: usize = 50;
/// Pixels per point when placing a scan on a page: 150 dpi scans come out at A4 size.
const DPI: f32 = 150.0;

/// Assembles the pages, in order, into one PDF and spools it.
pub async fn assemble(app: &App, pages: Vec<Spooled>, limit: u64) -> Result<Spooled> {
    if pages.len() > MAX_PAGES {
        return Err(AppError::invalid(
            "too-many-pages",
            format!("{MAX_PAGES} pages au plus par document"),
        ));
    }
    let Some(tenant_id) = pages.first().map(|p| p.ids.tenant_id.clone()) else {
        return Err(AppError::invalid(
            "missing-field",
            "aucune page à assembler",
        ));
    };
    let mut raw = Vec::with_capacity(pages.len());
    for p in pages {
        let allowed = liasse_inspect::Format::DEFAULT_ALLOWED;
        let mut clear = p.reader()?;
        let size = p.size;
        let _turn = app
            .inspections
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        // Inspected and read back through the decrypting reader; the page's bytes are held
        // in memory only, for the assembly.
        let (format, bytes) = tokio::task::spawn_blocking(move || {
            let format = liasse_inspect::inspect(
                &mut clear,
                size,
                &allowed,
                &liasse_inspect::Limits::default(),
            )
            .map_err(AppError::Refused)?
            .format;
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            clear.seek(SeekFrom::Start(0))?;
            clear.read_to_end(&mut bytes)?;
            Ok::<_, AppError>((format, bytes))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        p.discard().await;
        raw.push((format, bytes));
    }
    let pdf = tokio::task::spawn_blocking(move || build(raw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut spool = Spool::new(app, &tenant_id, limit)?;
    spool.write(&pdf).await?;
    spool.finish().await
}

fn build(pages: Vec<(liasse_inspect::Format, Vec<u8>)>) -> Result<Vec<u8>> {
    use liasse_inspect::Format;
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for (format, bytes) in pages {
        match format {
            Format::Pdf => {
                let mut other = Document::load_mem(&bytes)
                    .map_err(|_| AppError::Refused(liasse_inspect::Refusal::PdfMalformed))?;
                other.renumber_objects_with(doc.max_id + 1);
                doc.max_id = other.max_id;
                let their_pages: Vec<_> = other.get_pages().into_values().collect();
                for (id, object) in other.objects {
                    // The other document's catalogue and page tree are replaced by ours.
                    let skip = match object.as_dict() {
                        Ok(d) => matches!(
                            d.get(b"Type").and_then(Object::as_name),
                            Ok(b"Catalog") | Ok(b"Pages")
                        ),
                        Err(_) => false,
                    };
                    if !skip {
                        doc.objects.insert(id, object);
                    }
                }
                for page_id in their_pages {
                    if let Some(Object::Dictionary(d)) = doc.objects.get_mut(&page_id) {
                        d.set("Parent", pages_id);
                        kids.push(page_id.into());
                    }
                }
            }
            _ => kids.push(image_page(&mut doc, pages_id, format, &bytes)?.into()),
        }
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| AppError::Internal(format!("pdf assembly: {e}")))?;
    Ok(out)
}

/// One page holding one image scaled to the page: JPEGs are embedded as they are (DCTDecode),
/// other images are decoded and stored as compressed RGB.
fn image_page(
    doc: &mut Document,
    parent: lopdf::ObjectId,
    format: liasse_inspect::Format,
    bytes: &[u8],
) -> Result<lopdf::ObjectId> {
    let img = image::load_from_memory(bytes)
        .map_err(|_| AppError::Refused(liasse_inspect::Refusal::ImageMalformed))?;
    let (w, h) = (img.width(), img.height());
    let mut dict = Dictionary::new();
    dict.set("Type", "XObject");
    dict.set("Subtype", "Image");
    dict.set("Width", i64::from(w));
    dict.set("Height", i64::from(h));
    dict.set("BitsPerComponent", 8);
    let content = if format == liasse_inspect::Format::Jpeg
        && matches!(img.color(), image::ColorType::Rgb8 | image::ColorType::L8)
    {
        dict.set(
            "ColorSpace",
            if img.color() == image::ColorType::L8 {
                "DeviceGray"
            } else {
                "DeviceRGB"
            },
        );
        dict.set("Filter", "DCTDecode");
        bytes.to_vec()
    } else {
        dict.set("ColorSpace", "DeviceRGB");
        dict.set("Filter", "FlateDecode");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(img.to_rgb8().as_raw())?;
        z.finish()?
    };
    let image_id = doc.add_object(Stream::new(dict, content));
    let (pw, ph) = (w as f32 * 72.0 / DPI, h as f32 * 72.0 / DPI);
    let draw = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(Dictionary::new(), draw.into_bytes()));
    Ok(doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => parent,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(pw), Object::Real(ph)],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        "Contents" => content_id,
    }))
}

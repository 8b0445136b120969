//! Tenant slugs: short, lowercase, safe in URLs, file names and log lines.

/// Checks a tenant slug: 2 to 40 characters of `a-z`, `0-9` and `-`, starting with a letter.
pub fn validate_slug(slug: &str) -> Result<(), &'static str> {
    let ok_len = (2..=40).contains(&slug.len());
    let ok_chars = slug
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_start = slug.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if ok_len && ok_chars && ok_start {
        Ok(())
    } else {
        Err("a tenant slug has 2 to 40 characters among a-z, 0-9 and '-', and starts with a letter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(validate_slug("ville-de-nimes").is_ok());
        assert!(validate_slug("a").is_err());
        assert!(validate_slug("9abc").is_err());
        assert!(validate_slug("Nimes").is_err());
        assert!(validate_slug("../etc").is_err());
    }
}

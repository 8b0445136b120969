//! eIDAS levels of assurance, as FranceConnect and ProConnect name them in `acr`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A level of assurance; the order is the strength: `Eidas1 < Eidas2 < Eidas3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acr {
    /// Low (FranceConnect).
    Eidas1,
    /// Substantial (FranceConnect+).
    Eidas2,
    /// High (FranceConnect+).
    Eidas3,
}

impl Acr {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eidas1 => "eidas1",
            Self::Eidas2 => "eidas2",
            Self::Eidas3 => "eidas3",
        }
    }
}

impl fmt::Display for Acr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Acr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "eidas1" => Ok(Self::Eidas1),
            "eidas2" => Ok(Self::Eidas2),
            "eidas3" => Ok(Self::Eidas3),
            other => Err(format!("unknown acr {other:?} (eidas1, eidas2 or eidas3)")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn levels_are_ordered_and_parsed() {
        assert!(Acr::Eidas1 < Acr::Eidas2 && Acr::Eidas2 < Acr::Eidas3);
        assert_eq!("eidas2".parse::<Acr>(), Ok(Acr::Eidas2));
        assert!("EIDAS1".parse::<Acr>().is_err());
        assert_eq!(Acr::Eidas3.to_string(), "eidas3");
    }
}

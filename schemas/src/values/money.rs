//! Money as the ledger records it: an exact `Amount` and an ISO 4217 `Currency`, both strings on
//! the wire, never floats, so what was paid is what is read back.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{InvalidValue, string_value_schema};

/// An amount of money as an exact, non-negative decimal string (`"699.90"`), never a float.
/// At most 15 integer digits and 4 fraction digits; the string is kept exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Amount(String);

const AMOUNT_PATTERN: &str = r"^[0-9]{1,15}(\.[0-9]{1,4})?$";

impl Amount {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A sum of amounts. Totals may exceed the 15 integer digits a single amount may have.
    pub fn total(sum: rust_decimal::Decimal) -> Amount {
        Amount(sum.to_string())
    }

    /// How many decimals it is written with (`"699.90"`: 2).
    pub fn decimals(&self) -> usize {
        self.0.split_once('.').map_or(0, |(_, f)| f.len())
    }

    /// Whether it is an amount of `currency`: no more decimals than its ISO 4217 minor unit
    /// (10.123 EUR and 100.5 JPY are not). The one rule for the CLI, the owner API and
    /// vendors' offers.
    pub fn fits(&self, currency: &Currency) -> Result<(), InvalidValue> {
        let (has, may) = (self.decimals(), usize::from(currency.decimals()));
        if has <= may {
            return Ok(());
        }
        let allowed = match may {
            0 => format!("{currency} has no decimals"),
            1 => format!("{currency} has 1 decimal"),
            n => format!("{currency} has {n} decimals"),
        };
        Err(InvalidValue(format!(
            "amount {:?} has {has} decimals but {allowed} (ISO 4217)",
            self.0
        )))
    }
}

impl TryFrom<String> for Amount {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s.as_str(), None),
        };
        let digits = |p: &str, max: usize| {
            !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
        };
        if s.starts_with('-') {
            return Err(InvalidValue(format!(
                "amount {s:?} is negative; amounts are what was paid, zero or more"
            )));
        }
        if !digits(int, 15) || !frac.is_none_or(|f| digits(f, 4)) {
            return Err(InvalidValue(format!(
                "amount {s:?} is not a decimal number like \"699.90\" (digits, an optional point and up to 4 decimals)"
            )));
        }
        Ok(Amount(s))
    }
}

impl FromStr for Amount {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<Amount> for String {
    fn from(a: Amount) -> String {
        a.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    Amount,
    Some(AMOUNT_PATTERN),
    "Exact non-negative decimal amount as a string, never a float.",
    "699.90"
);

/// An ISO 4217 alphabetic currency code, upper case (`EUR`). Codes withdrawn recently are
/// still accepted, because purchases are history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// ISO 4217 codes of national currencies, current and recently withdrawn (HRK, SLL, ANG, …).
/// Fund, metal and testing codes are left out: nobody pays a vendor in XAU.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF",
    "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR",
    "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC",
    "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX",
    "USD", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

/// ISO 4217 codes whose minor unit is not 2: no decimals, or 3.
const NO_DECIMALS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
const THREE_DECIMALS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

impl Currency {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its ISO 4217 minor unit: how many decimals an amount in it has at most.
    pub fn decimals(&self) -> u8 {
        let code = self.0.as_str();
        if NO_DECIMALS.contains(&code) {
            0
        } else if THREE_DECIMALS.contains(&code) {
            3
        } else {
            2
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        if ISO_4217.binary_search(&s.as_str()).is_ok() {
            return Ok(Currency(s));
        }
        let upper = s.to_ascii_uppercase();
        let hint = if upper != s && ISO_4217.binary_search(&upper.as_str()).is_ok() {
            format!("; write it in capitals: {upper:?}")
        } else {
            String::new()
        };
        Err(InvalidValue(format!(
            "{s:?} is not an ISO 4217 currency code such as \"EUR\" or \"USD\"{hint}"
        )))
    }
}

impl FromStr for Currency {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    Currency,
    Some("^[A-Z]{3}$"),
    "ISO 4217 alphabetic currency code.",
    "EUR"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_non_negative_decimals() {
        for ok in ["0", "699.90", "12", "0.5", "123456789012345.1234"] {
            assert!(ok.parse::<Amount>().is_ok(), "{ok}");
        }
        for bad in [
            "-1",
            "1e3",
            "",
            ".5",
            "5.",
            "1.23456",
            "1,5",
            " 1",
            "NaN",
            "1234567890123456",
        ] {
            assert!(bad.parse::<Amount>().is_err(), "{bad}");
        }
        assert!("-3".parse::<Amount>().unwrap_err().0.contains("negative"));
    }

    #[test]
    fn floats_are_refused_for_money() {
        let err = serde_json::from_str::<Amount>("699.9").unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn amounts_have_no_more_decimals_than_their_currency() {
        let fits = |a: &str, c: &str| a.parse::<Amount>().unwrap().fits(&c.parse().unwrap());
        for (a, c) in [
            ("10.12", "EUR"),
            ("10", "EUR"),
            ("10.5", "EUR"),
            ("100", "JPY"),
            ("1.234", "KWD"),
        ] {
            assert!(fits(a, c).is_ok(), "{a} {c}");
        }
        let e = fits("10.123", "EUR").unwrap_err().0;
        assert_eq!(
            e,
            "amount \"10.123\" has 3 decimals but EUR has 2 decimals (ISO 4217)"
        );
        let e = fits("100.5", "JPY").unwrap_err().0;
        assert!(e.contains("JPY has no decimals"), "{e}");
        assert!(fits("1.2345", "KWD").is_err());
        assert!(
            NO_DECIMALS
                .iter()
                .chain(THREE_DECIMALS)
                .all(|c| ISO_4217.contains(c))
        );
    }

    #[test]
    fn currency_codes_are_iso_4217() {
        assert!(
            ISO_4217.windows(2).all(|w| w[0] < w[1]),
            "list must stay sorted"
        );
        assert!("EUR".parse::<Currency>().is_ok());
        assert!("JPY".parse::<Currency>().is_ok());
        assert!("EURO".parse::<Currency>().is_err());
        assert!("XYZ".parse::<Currency>().is_err());
        let hint = "eur".parse::<Currency>().unwrap_err().0;
        assert!(hint.contains("\"EUR\""), "{hint}");
    }
}

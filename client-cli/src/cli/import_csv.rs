//! `carnet import-csv purchases FILE`: a bank's or a merchant's export read into purchases.

use std::path::PathBuf;

use carnet_schemas::Currency;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet import-csv purchases releve.csv --currency EUR --dry-run\n  \
carnet import-csv purchases releve.csv --currency EUR --map vendors.map --yes")]
pub enum ImportCsvCmd {
    /// Import a bank's or a merchant's CSV export as purchases: debits become purchases,
    /// credits are skipped, rows already imported are skipped
    #[command(after_help = IMPORT_CSV_HELP)]
    Purchases(ImportCsvArgs),
}

const IMPORT_CSV_HELP: &str = "\
The delimiter (, ; or tab) and the decimal comma are detected. Without column flags, common \
English and French headers are recognised (Date, Date opération, Date de valeur; Amount, \
Montant, Débit, Crédit; Description, Libellé, Payee, Merchant, Bénéficiaire, …). Dates follow \
--date-format; without it they are read day-first when amounts use a decimal comma, else a \
date such as 03/04/2026 that the file does not settle is refused.

A debit (a negative amount, or a Débit column) becomes a purchase of its absolute amount at \
the vendor the --map file (or the description) names; the description is the item. Vendors \
carnet does not know are listed and created after you confirm (or with --yes). Each purchase \
keeps a fingerprint of its row, so importing the same file again adds nothing; two identical \
rows of one file are two purchases. The report lists rows refused with their line number.

--map FILE: one `pattern = Vendor` a line; a description containing the pattern (any case) \
is a purchase at that vendor; # starts a comment.

Examples:
  carnet import-csv purchases releve.csv --dry-run
  carnet import-csv purchases releve.csv --currency EUR --map vendors.map --yes
  carnet import-csv purchases export.csv --date-format %m/%d/%Y --currency USD
  carnet import-csv purchases umsatz.csv --date-column Buchungstag \\
      --vendor-column Verwendungszweck --amount-column Betrag --currency EUR
  carnet --json import-csv purchases releve.csv --yes";

#[derive(Debug, Args)]
pub struct ImportCsvArgs {
    /// The CSV file
    pub file: PathBuf,
    /// The column naming the vendor (a header or its number from 1) [default: the
    /// description]
    #[arg(long, value_name = "C")]
    pub vendor_column: Option<String>,
    /// The column holding the date [default: a Date header]
    #[arg(long, value_name = "C")]
    pub date_column: Option<String>,
    /// The column holding the signed amount [default: an Amount/Montant header, or
    /// Débit and Crédit]
    #[arg(long, value_name = "C")]
    pub amount_column: Option<String>,
    /// How dates are written, in strftime form (%d/%m/%Y, %m/%d/%Y, %d.%m.%Y)
    #[arg(long, value_name = "F")]
    pub date_format: Option<String>,
    /// The currency of the amounts (needed unless the file has a Currency/Devise column)
    #[arg(long, value_name = "CODE")]
    pub currency: Option<Currency>,
    /// A file of `pattern = Vendor` lines naming the vendor of a description
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Show what would be imported and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Create the vendors carnet does not know without asking
    #[arg(long, short)]
    pub yes: bool,
}

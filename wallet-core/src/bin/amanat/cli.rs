//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Getting started:
  amanat init --name \"Ayesha Siddiqui\"     create your wallet (asks for a passphrase twice)
  amanat import lab-results.json scan.pdf   add records (FHIR JSON, PDF, JPEG, PNG, backups)
  amanat summary                            problems, allergies, medicines, latest results
  amanat list --search hba1c                find records
  amanat export --out backup.age --passphrase

Environment:
  AMANAT_VAULT        wallet directory (instead of --vault)
  AMANAT_PASSPHRASE   passphrase for scripts (instead of the prompt)
  AMANAT_PROFILE      profile handle (instead of --profile)

Exit codes:
  0 success   1 error   2 bad arguments   3 wrong passphrase
  4 integrity failure (tampered data, broken audit chain)   5 wallet in use";

/// Amanat: your health records, encrypted, in your own hands.
#[derive(Debug, Parser)]
#[command(name = "amanat", version, about, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Wallet directory [default: your data directory, e.g. ~/.local/share/amanat/vault]
    #[arg(long, global = true, env = "AMANAT_VAULT", value_name = "DIR")]
    pub vault: Option<PathBuf>,

    /// Whose records: a profile handle such as `me` or `zara` [default: the wallet owner]
    #[arg(
        long,
        short = 'p',
        global = true,
        env = "AMANAT_PROFILE",
        value_name = "HANDLE"
    )]
    pub profile: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new wallet (you choose a passphrase; it cannot be recovered).
    Init(InitArgs),
    /// Change the wallet's passphrase (records are not re-encrypted; this is quick).
    Passphrase(PassphraseArgs),
    /// Show the wallet ID and the owner's profile.
    Whoami(JsonArg),
    /// Manage family profiles: children, parents, anyone you care for.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Add records from files: FHIR JSON (resources or Bundles), PDF, JPEG, PNG, or an Amanat backup (.age).
    Import(ImportArgs),
    /// List records, newest first.
    List(ListArgs),
    /// Show one record.
    Show(ShowArgs),
    /// Delete a record.
    Delete(DeleteArgs),
    /// A summary: problems, allergies, medicines, vaccinations, latest results and vitals.
    Summary(JsonArg),
    /// Export a profile's records as one FHIR Bundle in an age-encrypted file (a backup).
    Export(ExportArgs),
    /// Fill a wallet with a synthetic patient (and her daughter) to try Amanat.
    Demo(DemoArgs),
    /// Show the audit log of everything that touched the wallet, or verify its chain.
    Audit(AuditArgs),
    /// Measure import, list, search and show speed on a temporary wallet.
    Bench(BenchArgs),
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The scrypt work factor option shared by commands that set a passphrase.
#[derive(Debug, Args)]
pub struct KdfArg {
    /// scrypt work factor (log2 N) for the passphrase. Lower is faster and weaker;
    /// meant for tests and slow devices.
    #[arg(long, env = "AMANAT_KDF_WORK_FACTOR", value_name = "LOG_N", hide_short_help = true,
          value_parser = clap::value_parser!(u8).range(10..=22))]
    pub kdf_work_factor: Option<u8>,
}

/// Profile details shared by `init` and `profile add`.
#[derive(Debug, Args)]
pub struct ProfileFields {
    /// Full name, in any script (e.g. "Ayesha Siddiqui", "عائشہ صدیقی", "आयशा").
    #[arg(long)]
    pub name: Option<String>,
    /// Short handle for --profile (lowercase letters, digits, '-') [default: from the name]
    #[arg(long)]
    pub handle: Option<String>,
    /// Birth date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub birth_date: Option<String>,
    /// female, male, other or unknown.
    #[arg(long)]
    pub gender: Option<String>,
    /// India: 14-digit ABHA number (XX-XXXX-XXXX-XXXX).
    #[arg(long, value_name = "NUMBER")]
    pub abha_number: Option<String>,
    /// India: ABHA address (name@abdm, or name@sbx in the sandbox).
    #[arg(long, value_name = "ADDRESS")]
    pub abha_address: Option<String>,
    /// Pakistan: 13-digit CNIC (NNNNN-NNNNNNN-N).
    #[arg(long)]
    pub cnic: Option<String>,
}

/// `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The owner's details.
    #[command(flatten)]
    pub fields: ProfileFields,
    /// Passphrase strength.
    #[command(flatten)]
    pub kdf: KdfArg,
}

/// `passphrase`.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Passphrase strength for the new passphrase.
    #[command(flatten)]
    pub kdf: KdfArg,
}

/// `profile …`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List profiles.
    List(JsonArg),
    /// Add a profile for someone you care for.
    Add {
        /// Their details.
        #[command(flatten)]
        fields: ProfileFields,
        /// child, parent, spouse or other.
        #[arg(long, default_value = "child")]
        relationship: String,
    },
    /// Show a profile (the selected --profile, or the owner).
    Show(JsonArg),
    /// Remove a profile that has no records.
    Remove {
        /// The profile's handle.
        handle: String,
    },
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// For backups: an age identity file (AGE-SECRET-KEY-1…) that can open them.
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this FHIR type (Observation, Condition…) or ABDM type (Prescription,
    /// DiagnosticReport, OPConsultation, DischargeSummary, ImmunizationRecord,
    /// HealthDocumentRecord, WellnessRecord). Repeat for several.
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only records on or after this date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only records on or before this date (inclusive of the whole month or year given).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only records whose title, codes or text contain every word.
    #[arg(long, short = 's', value_name = "TEXT")]
    pub search: Option<String>,
    /// At most this many [default: 50; 0 for all]
    #[arg(long, short = 'n', default_value_t = 50)]
    pub limit: usize,
    /// Every profile's records, not just the selected one.
    #[arg(long)]
    pub all_profiles: bool,
    /// Print a JSON array of {id, type, date, title, profile, hi_type}.
    #[arg(long)]
    pub json: bool,
}

/// `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Record id (or its first characters).
    pub id: String,
    /// Print the FHIR resource as JSON, exactly as stored.
    #[arg(long)]
    pub json: bool,
    /// Save the record's attachment (PDF, image) to this file.
    #[arg(long, value_name = "FILE")]
    pub save_attachment: Option<PathBuf>,
}

/// `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Record id (or its first characters).
    pub id: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `export`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["to", "passphrase"])))]
pub struct ExportArgs {
    /// Output file (e.g. backup.age).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Encrypt to this age recipient (age1…); repeat for several.
    #[arg(long, value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Encrypt with a passphrase instead (asked twice, or $AMANAT_EXPORT_PASSPHRASE).
    #[arg(long)]
    pub passphrase: bool,
    /// Write ASCII armor (text) instead of binary.
    #[arg(long)]
    pub armor: bool,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Passphrase strength for --passphrase.
    #[command(flatten)]
    pub kdf: KdfArg,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many records the demo patient gets (at least ~150 of clinic history;
    /// more adds home glucose and blood-pressure readings).
    #[arg(long, default_value_t = 400)]
    pub records: usize,
    /// Seed for the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Passphrase strength, if a new wallet is created.
    #[command(flatten)]
    pub kdf: KdfArg,
}

/// `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Check the hash chain; exit 4 naming the first bad entry if anything was altered or removed.
    #[arg(long)]
    pub verify: bool,
    /// Only the last N entries [default: all]
    #[arg(long, short = 'n')]
    pub limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Records for the import measurement.
    #[arg(long, default_value_t = 10_000)]
    pub import_records: usize,
    /// Records in the large wallet for list, search and show.
    #[arg(long, default_value_t = 100_000)]
    pub vault_records: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use wallet_core::reading::Kind;
use wallet_core::share::grant::{AccessMode, Purpose};

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

Sharing:
  amanat share --summary --purpose CAREMGT --expires 24h --offline    a QR code with the records inside
  amanat share ID… --purpose CAREMGT --expires 2h --relay URL         a QR code pointing at a relay
  amanat receive AMANAT:…   (or --qr-image photo.jpg)                 the doctor's side: verify and read
  amanat grants · amanat grants revoke GRANT                          who has what; take it back

Exit codes:
  0 success   1 error   2 bad arguments   3 wrong passphrase
  4 integrity failure (tampered data, broken audit chain)   5 wallet in use
  6 share refused (expired, revoked, altered, not for you, unreadable)
  7 a plugin was refused, failed, or was stopped (time, fuel, memory)";

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
    /// Change the wallet's passphrase (quick), or with --rotate-keys also seal every record again.
    Passphrase(PassphraseArgs),
    /// Show the wallet ID and the owner's profile.
    Whoami(JsonArg),
    /// Show or change the wallet's settings (the viewer share codes open in).
    Settings(SettingsArgs),
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
    /// Enter a reading you took: blood pressure, glucose, weight, HbA1c, temperature, SpO2, pulse.
    ///
    /// It joins the trend charts, marked as entered by you; an impossible value is
    /// refused and nothing is saved.
    ///
    /// amanat add bp 132/84 · amanat add glucose 142 --fasting · amanat add weight 160 --unit lb
    Add(AddArgs),
    /// A summary: problems, allergies, medicines, vaccinations, latest results and vitals.
    ///
    /// `--pdf FILE` puts it on one or two A4 pages with the QR code of a share of the same
    /// records, for a doctor to check on a phone.
    Summary(SummaryArgs),
    /// Export a profile's records as one FHIR Bundle in an age-encrypted file (a backup).
    Export(ExportArgs),
    /// Fill a wallet with a synthetic patient (and her daughter) to try Amanat.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Show the audit log of everything that touched the wallet, or verify its chain.
    Audit(AuditArgs),
    /// Open the web wallet: serves it on 127.0.0.1 and opens your browser with a one-time sign-in link.
    Serve(ServeArgs),
    /// Share records with a doctor through a QR code: a signed consent grant plus the
    /// records encrypted with age, inside the QR (--offline) or at a relay (--relay URL).
    Share(ShareArgs),
    /// Open a share (the doctor's side): verify it and show the records. No wallet needed.
    Receive(ReceiveArgs),
    /// The shares you made: who, what, until when, uses; revoke them.
    Grants(GrantsArgs),
    /// An emergency card: blood group, allergies, conditions, medicines and people to call,
    /// readable with no app, and a QR code to those records at a relay.
    ///
    /// `amanat emergency-card --relay URL --contact "Bilal Siddiqui (husband) +92 300 1234567"`
    /// makes it (or renews it: the card before stops working); `amanat emergency-card`
    /// shows it with every time it was opened; `--revoke` stops its QR code at once.
    /// The QR code is a share for an emergency (purpose BTG), view only, for a year.
    EmergencyCard(EmergencyCardArgs),
    /// Run a relay: an HTTP store that holds only encrypted shares, and the share viewer at /.
    Relay(RelayArgs),
    /// The share viewer a doctor's phone opens share codes in: export it for a static host.
    #[command(subcommand)]
    Viewer(ViewerCommand),
    /// For doctors and facilities: your provider identity and public card.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Registries of providers (a medical council's signed list): create, sign, trust.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// SMART Health Card issuers you trust: cards they sign import, each record saying who issued it.
    #[command(subcommand)]
    Issuers(IssuersCommand),
    /// Consent requests from doctors: open one (its QR code or text), see what it asks in
    /// plain words, approve it as asked or narrowed, or deny it.
    Requests(RequestsArgs),
    /// Scan & Share: register at a facility's counter by scanning its QR code. Your details
    /// (name, birth date, gender, CNIC/ABHA, phone) go to that facility alone; no record does.
    #[command(after_help = "Example:
  amanat scan-share --qr-image counter.png          # shows the facility and what it would get
  amanat scan-share --qr-image counter.png --yes    # shares them: prints your token number
  amanat grants                                      # the share is listed (revoke it like any)")]
    ScanShare(ScanShareArgs),
    /// Plugins from labs, insurers and pharmacies: sandboxed, with only the permissions you approve.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Measure import, list, search, show and sharing speed on temporary wallets.
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
}

/// `plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install a signed plugin: shows what it may do and asks you to approve.
    Install {
        /// The plugin (.wasm component).
        file: PathBuf,
        /// Approve without asking (scripts).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Accept a plugin without a publisher's signature. Only for developing plugins.
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// List installed plugins.
    List(JsonArg),
    /// A plugin's publisher, permissions in plain words, and actions.
    Show {
        /// Plugin name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a plugin action; records it proposes are saved only if you confirm.
    #[command(after_help = "Examples:
  amanat plugin run lab-import --input report.hl7 --yes
  amanat plugin run insurer-claim claim --record k3vq8m --record 9xw2ab
  amanat plugin run e-pharmacy order --record 4mzq1c")]
    Run {
        /// Plugin name.
        name: String,
        /// The action [default: the plugin's only action].
        action: Option<String>,
        /// A file for the action (a lab report…).
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// A record to give the action (repeatable).
        #[arg(long = "record", value_name = "ID")]
        records: Vec<String>,
        /// Save proposed records without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Save records about someone other than the profile (the name, birth date or
        /// national ID they carry differs) anyway: without it they are refused.
        #[arg(long)]
        accept_mismatch: bool,
        /// Save the document the plugin produces (a claim, an order) here.
        #[arg(long, value_name = "FILE")]
        save_document: Option<PathBuf>,
        /// Wall-clock limit for the action, seconds.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        time_limit: u64,
        /// Memory limit for this run, MiB [default: what the plugin was approved
        /// at install: 64 unless its manifest asked for more]
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=512))]
        memory_limit: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a plugin (its records stay).
    Remove {
        /// Plugin name.
        name: String,
    },
    /// For publishers: create a signing key ($AMANAT_PUBLISHER_PASSPHRASE).
    Keygen {
        /// Who publishes, e.g. "Chughtai Lab".
        #[arg(long)]
        publisher: String,
        /// Where to write the key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Passphrase strength.
        #[command(flatten)]
        kdf: KdfArg,
    },
    /// Trust a registry's list of plugin publishers (a snapshot signed with
    /// `amanat registry sign --publisher`), checking it is signed by the key you expect.
    /// Plugins signed by a listed key then show the registry's name for their
    /// publisher; any other is shown as an unknown publisher.
    Trust {
        /// The snapshot file.
        file: PathBuf,
        /// The registry key's thumbprint, as the registry publishes it.
        #[arg(long, value_name = "THUMBPRINT", allow_hyphen_values = true)]
        key: String,
    },
    /// For plugin authors: start a plugin project (manifest, code, build script)
    /// in Rust, Python or JavaScript.
    ///
    /// `amanat plugin new my-lab --lang python` writes my-lab/ with the plugin
    /// interface (wit/), an amanat-plugin.json manifest, the code and a
    /// `build` script; `./build` then writes my-lab.wasm, which `amanat plugin
    /// install --allow-unsigned my-lab.wasm` installs while you develop. Sign
    /// it with `amanat plugin sign` to ship it.
    New {
        /// The plugin's name (lowercase letters, digits, `-`); also the folder.
        name: String,
        /// The language of the project.
        #[arg(long, value_enum)]
        lang: crate::templates::Lang,
        /// Where to create the folder [default: the current directory].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// For a lab or pharmacy that publishes a plugin: sign a record (a report your system made)
    /// with your publisher key, so that when your plugin proposes it the patient's wallet keeps
    /// "signed by <you> (publisher key …)" with it. The plugin passes the file's text to
    /// propose-record as it is.
    #[command(after_help = "Example:
  amanat plugin sign-record hba1c.json --key publisher.key --registry \"Pakistan Medical & Dental Council\"
  amanat plugin run lab-import --input hba1c.amanat-record --yes   # the patient: saved as signed by you")]
    SignRecord {
        /// The record: one FHIR resource, or one FHIR document (JSON).
        file: PathBuf,
        /// Your publisher key (the one your plugin is signed with).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The registry that lists your key among its publishers, as its snapshot names it.
        #[arg(long)]
        registry: String,
        /// Where to write it [default: FILE with the extension .amanat-record].
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// For plugin authors: embed the manifest without signing, for `amanat plugin
    /// install --allow-unsigned` while developing (a core module is made a component).
    Pack {
        /// The plugin as built: a component, or a core module with its
        /// interface from wit-bindgen (wasm32-unknown-unknown), made a component.
        file: PathBuf,
        /// The manifest (JSON), as for `sign`.
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// Output [default: replace FILE].
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// For publishers: embed the manifest and sign the plugin with your key
    /// ($AMANAT_PUBLISHER_PASSPHRASE); a core module is made a component first.
    Sign {
        /// The plugin as built, as for `pack`.
        file: PathBuf,
        /// Your publisher key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The manifest (JSON): name, version, interface, publisher, kind, description, permissions, settings.
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// Output [default: replace FILE].
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8470)]
    pub port: u16,
    /// Do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    /// The built web wallet (Trunk's output) [default: found next to the binary, or target/web]
    #[arg(long, value_name = "DIR", env = "AMANAT_WEB_DIR")]
    pub web: Option<PathBuf>,
    /// Lock the wallet after this many minutes without use.
    #[arg(long, default_value_t = 15, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub idle_lock: u64,
    /// Passphrase strength for a wallet created in the browser.
    #[command(flatten)]
    pub kdf: KdfArg,
}

/// `share`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("route").required(true).args(["offline", "relay"])))]
#[command(after_help = "Examples:
  amanat share --summary --purpose CAREMGT --expires 24h --offline
  amanat share k3vq8m 9xw2ab --purpose treatment --expires 2h --relay https://relay.example --uses 1
  amanat share --type DiagnosticReport --since 2025 --purpose CAREMGT --expires 7d --to dr-rao.card --relay URL
  amanat share --summary --purpose CAREMGT --expires 7d --relay https://relay.example --shl --passcode --label \"Ayesha's summary\"")]
pub struct ShareArgs {
    /// Record ids (or their first characters) to share.
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Share every record of this FHIR or ABDM type (repeatable).
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    pub types: Vec<String>,
    /// With --type: only records on or after this date.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Share the patient summary: problems, allergies, medicines, vaccinations, latest results and vitals.
    #[arg(long)]
    pub summary: bool,
    /// Why: CAREMGT (treatment), BTG (emergency), PUBHLTH, HPAYMT (insurance), DSRCH (research), PATRQT (self).
    #[arg(long)]
    pub purpose: Purpose,
    /// How long the share lasts: 30m, 24h, 7d, 2w (at most a year).
    #[arg(long, value_name = "DURATION")]
    pub expires: String,
    /// Only this provider can open it: a card file, card text (AMANAT-CARD:…), or a
    /// registration number from a trusted registry.
    #[arg(long, value_name = "PROVIDER")]
    pub to: Option<String>,
    /// How many times the relay may hand it out.
    #[arg(long, value_name = "N")]
    pub uses: Option<u32>,
    /// view (look only) or store (the doctor may keep a copy).
    #[arg(long, default_value = "view")]
    pub mode: AccessMode,
    /// Lock a bearer share with a passcode you tell the doctor: the wallet makes one (60 random
    /// bits), or give your own passphrase of 20+ characters in $AMANAT_SHARE_PASSCODE.
    #[arg(long)]
    pub passcode: bool,
    /// Put the records inside the QR code itself (no network needed).
    #[arg(long)]
    pub offline: bool,
    /// Upload the encrypted records to this relay; the QR carries the link and the key.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// The viewer a phone's camera opens the code in (https://…) [default: the relay's for
    /// --relay; for --offline, `amanat settings --viewer`, else a bare AMANAT: link].
    #[arg(long, value_name = "URL")]
    pub viewer: Option<String>,
    /// Make a SMART Health Link (shlink:/…, HL7 SMART Health Cards and Links) that any SHL
    /// viewer opens: the records as a FHIR Bundle signed with your consent grant, encrypted
    /// (JWE) at the relay. Needs --relay; --passcode makes the relay ask for it (10 tries).
    #[arg(long, requires = "relay", conflicts_with = "to")]
    pub shl: bool,
    /// With --shl: flag L, a link meant to be opened again over time.
    #[arg(long, requires = "shl")]
    pub long_term: bool,
    /// With --shl: flag U, the link's address is the encrypted file itself (no manifest,
    /// no passcode).
    #[arg(long, requires = "shl", conflicts_with = "passcode")]
    pub direct_file: bool,
    /// With --shl: what viewers call the link (at most 80 characters).
    #[arg(long, requires = "shl", value_name = "TEXT")]
    pub label: Option<String>,
    /// Write the QR code as PNG.
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,
    /// Write the QR code as SVG.
    #[arg(long, value_name = "FILE")]
    pub qr_svg: Option<PathBuf>,
    /// Print {"link", "grant_id", "expires", "qr_version", "records"} instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `receive`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["link", "qr_image", "request"])))]
pub struct ReceiveArgs {
    /// The share link (AMANAT:…, a viewer URL, or a SMART Health Link shlink:/…), or - to
    /// read it from standard input.
    pub link: Option<String>,
    /// A photo or image (PNG, JPEG) of the QR code.
    #[arg(long, value_name = "FILE")]
    pub qr_image: Option<PathBuf>,
    /// Open the patient's answer to your consent request REQUEST-ID from the relay it names
    /// (`amanat provider requests` lists them).
    #[arg(long, value_name = "REQUEST-ID", allow_hyphen_values = true)]
    pub request: Option<String>,
    /// Your provider identity, for shares addressed to you [default: $AMANAT_PROVIDER_IDENTITY
    /// or ~/.local/share/amanat/provider.age]
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Save the records here (only when the patient allowed storing): one file
    /// a record, `1-Condition.json` and so on in the share's order, `0-Patient.json`
    /// (whom they are about, from the signed grant), and `grant.jws`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print {"grant": {...}, "patient": {FHIR Patient}, "records": [FHIR resources],
    /// "signed_by": [the provider who signed each record, or null]}.
    #[arg(long)]
    pub json: bool,
    /// Who is opening a SMART Health Link, as its sharer's access log will show it: your name
    /// or your clinic's [default: "Amanat receive"].
    #[arg(long, value_name = "NAME")]
    pub recipient: Option<String>,
}

/// `grants`.
#[derive(Debug, Args)]
pub struct GrantsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<GrantsCommand>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `grants …`.
#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Revoke a share: the relay deletes the records; the doctor's next open is refused.
    Revoke {
        /// Grant id (or its first characters). A SMART Health Link's may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Show a share's link and QR code again.
    Show {
        /// Grant id (or its first characters).
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// `relay`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  amanat relay --store /var/lib/amanat-relay                      one relay, embedded store
  amanat relay --store redis://127.0.0.1:6379/0 --bind 0.0.0.0:8480 many relays, one Redis
  amanat relay --store redis+cluster://10.0.0.1:7000,10.0.0.2:7000 --trusted-proxy 10.0.0.0/8

Every count (uses, quotas, rate limits) lives in the store, so any number of relays can
serve one Redis behind a load balancer. GET /health says whether the store answers;
GET /metrics gives Prometheus counters. See docs/relay.md.")]
pub struct RelayArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub bind: std::net::SocketAddr,
    /// Where to keep the (encrypted) shares: a directory (embedded store), redis://[:PASSWORD@]HOST:PORT[/DB], or redis+cluster://HOST:PORT,HOST:PORT,… (a URL with a password belongs in $AMANAT_RELAY_STORE, not on the command line, which other local users can read)
    #[arg(
        long,
        value_name = "DIR|URL",
        env = "AMANAT_RELAY_STORE",
        hide_env_values = true
    )]
    pub store: wallet_core::relay::store::StoreSpec,
    /// Requests per second allowed per client address, IPv6 per /64 (0: unlimited); bursts of twice that.
    #[arg(long, default_value_t = 20)]
    pub rate_limit: u32,
    /// Largest share accepted, bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_bytes: usize,
    /// Shares one patient key may upload per UTC day (0: unlimited).
    #[arg(long, default_value_t = 500)]
    pub uploads_per_key: u32,
    /// Bytes one patient key may upload per UTC day (0: unlimited).
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    pub bytes_per_key: u64,
    /// Most bytes of ciphertext the store may hold; past it uploads get 507 and no live share is evicted (0: unlimited).
    #[arg(long, default_value_t = 16 * 1024 * 1024 * 1024)]
    pub max_store_bytes: u64,
    /// A proxy or load balancer (address or CIDR block) whose X-Forwarded-For names the client; repeatable.
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<wallet_core::relay::clients::Cidr>,
    /// The built share viewer to serve at / [default: the one built into this binary; without
    /// one, $AMANAT_VIEWER_DIR, viewer/ next to the binary, or target/viewer]
    #[arg(long, value_name = "DIR")]
    pub viewer: Option<PathBuf>,
}

/// `viewer …`.
#[derive(Debug, Subcommand)]
pub enum ViewerCommand {
    /// Write the share viewer's files (HTML, JS, wasm, CSS) into DIR, for any static web host;
    /// then `amanat settings --viewer https://that-host/` makes offline codes open there.
    Export {
        /// Where to write them (created if missing).
        dir: PathBuf,
    },
}

/// `provider …`.
#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Create your provider identity (keys sealed with a passphrase, $AMANAT_PROVIDER_PASSPHRASE).
    Init {
        /// Your name as patients know it, e.g. "Dr. Imran Rao".
        #[arg(long)]
        name: String,
        /// Your registration number, e.g. PMDC-12345-P or your HPR id.
        #[arg(long)]
        registration: String,
        /// Where to keep it [default: ~/.local/share/amanat/provider.age]
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Passphrase strength.
        #[command(flatten)]
        kdf: KdfArg,
    },
    /// Sign a record you wrote (a prescription, a report) for your patient: their wallet
    /// imports it saying you signed it, once a registry they trust lists you.
    #[command(after_help = "Example:
  amanat provider sign-record rx.json --registry \"Pakistan Medical & Dental Council\" --qr-png rx.png
  # the patient: amanat import rx.amanat-record   (or the QR photo: amanat import rx.png)")]
    SignRecord {
        /// The record: one FHIR resource, or one FHIR document (JSON).
        file: PathBuf,
        /// The registry that lists you, by its name in its snapshot (`amanat registry list`
        /// shows it): the patient's wallet checks your key there.
        #[arg(long)]
        registry: String,
        /// Where to write the signed record [default: FILE with the extension .amanat-record].
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also write it as a QR code (PNG) for the patient to scan or photograph.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// Your identity file.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Ask a patient for records: a consent request signed with your key, as a QR code and text.
    /// Their wallet shows it in plain words; they approve (perhaps narrowed) or deny it.
    #[command(after_help = "Example:
  amanat provider request --types DiagnosticReport,Prescription --since 2024-01-01 --purpose CAREMGT --for 7d \\
      --relay https://relay.example --qr-png request.png
  amanat provider requests                  # where each stands
  amanat receive --request REQUEST-ID       # open an approved one from the relay")]
    Request(ProviderRequestArgs),
    /// The consent requests you made, and where each stands.
    Requests {
        /// Your identity file.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// For a facility: the QR code to put up at a registration counter. A patient who scans
    /// it shares their details (name, birth date, gender, CNIC/ABHA, phone) to your key;
    /// `amanat provider inbox` lists them as they arrive, each with a token number.
    #[command(after_help = "Example:
  amanat provider init --name \"City Hospital\" --registration IN2710000123
  amanat provider facility-card --name \"City Hospital\" --facility-id IN2710000123 \\
      --counter \"OPD registration\" --relay https://relay.example --qr-png counter.png
  amanat provider inbox                     # today's arrivals, by token")]
    FacilityCard(FacilityCardArgs),
    /// Patients who registered at your counters (Scan & Share), by token, with their
    /// details as their wallets signed them.
    Inbox {
        /// Which day's queue (YYYY-MM-DD, UTC) [default: today].
        #[arg(long, value_name = "DATE")]
        day: Option<String>,
        /// Write each arrival as a FHIR Patient (token-N-Patient.json) into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Your identity file.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print your public card (text and QR) for patients to share with you.
    Card {
        /// Your identity file.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Write the card's QR code as PNG.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// Print the card as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `scan-share`.
#[derive(Debug, Args)]
pub struct ScanShareArgs {
    /// The facility card's text (AMANAT-FACILITY:…), or - to read it from standard input.
    pub text: Option<String>,
    /// A photo or image (PNG, JPEG) of the card's QR code.
    #[arg(long, value_name = "FILE")]
    pub qr_image: Option<PathBuf>,
    /// Share without asking (in a script, nothing is shared without it).
    #[arg(long)]
    pub yes: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// What to do (default: list the requests, with where each stands).
    #[command(subcommand)]
    pub command: Option<RequestsCommand>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `requests …`.
#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Open a doctor's request: verified, kept, and shown in plain words with the records it covers.
    #[command(after_help = "Example:
  amanat requests open --qr-image request.png
  amanat requests approve REQUEST-ID --types DiagnosticReport --for 3d   # narrower than asked
  amanat requests deny REQUEST-ID")]
    Open {
        /// The request's text (AMANAT-REQUEST:…), or - to read it from standard input.
        text: Option<String>,
        /// A photo or image (PNG, JPEG) of its QR code.
        #[arg(long, value_name = "FILE")]
        qr_image: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one request again, with the records it covers.
    Show {
        /// The request's id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a request: a share of the records it covers, to the doctor who asked (through
    /// the relay the request names, else as a QR code for them to scan). Narrow it if you wish.
    Approve(ApproveArgs),
    /// Deny a request (kept in the wallet and the audit log as denied).
    Deny {
        /// The request's id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

/// `requests approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The request's id.
    #[arg(allow_hyphen_values = true)]
    pub id: String,
    /// Only these of the types asked for (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub types: Vec<String>,
    /// Only records from this day on (YYYY-MM-DD), not before what was asked.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// For less time than asked, e.g. 3d or 12h.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Answer with a QR code for the doctor to scan, even when the request names a relay.
    #[arg(long)]
    pub offline: bool,
    /// Write the answer's QR code as PNG.
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `provider request`.
#[derive(Debug, Args)]
pub struct ProviderRequestArgs {
    /// The record types you ask for: FHIR types or ABDM types (DiagnosticReport,
    /// Prescription, OPConsultation, DischargeSummary, ImmunizationRecord, …), comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "TYPES")]
    pub types: Vec<String>,
    /// Only records from this day on (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Why: CAREMGT (treatment), HPAYMT (insurance), PUBHLTH, DSRCH, PATRQT.
    #[arg(long, default_value = "CAREMGT")]
    pub purpose: String,
    /// How long you ask to see them, e.g. 7d.
    #[arg(long = "for", value_name = "DURATION", default_value = "7d")]
    pub duration: String,
    /// How long the patient has to answer.
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub expires: String,
    /// The relay the patient's wallet sends the answer to; without it, the patient shows
    /// you the answer as a QR code.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// Write the request's QR code as PNG.
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,
    /// Your identity file.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `provider facility-card`.
#[derive(Debug, Args)]
pub struct FacilityCardArgs {
    /// The facility's name, as patients know it.
    #[arg(long)]
    pub name: String,
    /// Its id in a facility registry (ABDM's HFR id): the registration your identity was made
    /// with, by which a registry lists the facility [default: that registration].
    #[arg(long, value_name = "ID")]
    pub facility_id: Option<String>,
    /// The counter the card hangs at, e.g. "OPD registration".
    #[arg(long)]
    pub counter: Option<String>,
    /// The relay patients' details are sent to.
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// How long you may read a patient's details, e.g. 1d.
    #[arg(long = "for", value_name = "DURATION", default_value = "1d")]
    pub duration: String,
    /// How long the card is valid.
    #[arg(long, value_name = "DURATION", default_value = "365d")]
    pub valid: String,
    /// Write the card's QR code as PNG (to print and put up).
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,
    /// Your identity file.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `issuers …`.
#[derive(Debug, Subcommand)]
pub enum IssuersCommand {
    /// Trust an issuer's keys: the key set (JWKS) it publishes at <ISS>/.well-known/jwks.json.
    #[command(after_help = "Example:
  amanat issuers trust jwks.json --iss https://spec.smarthealth.cards/examples/issuer --name \"SMART example issuer\"
  amanat import card.smart-health-card     # verified with those keys; records say \"issued by …\"")]
    Trust {
        /// The issuer's key set (JSON Web Key Set, public keys), saved from its address.
        file: PathBuf,
        /// The issuer's address, exactly as its cards name it (their `iss`).
        #[arg(long, value_name = "URL")]
        iss: String,
        /// What to call it in your records.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the issuers you trust.
    List(JsonArg),
    /// Stop trusting an issuer (the records it issued stay).
    Remove {
        /// The issuer's address.
        #[arg(value_name = "URL")]
        iss: String,
    },
}

/// `registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Create a registry key (for a council or facility registry; $AMANAT_REGISTRY_PASSPHRASE).
    Create {
        /// The registry's name.
        #[arg(long)]
        name: String,
        /// Where to write the key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Passphrase strength.
        #[command(flatten)]
        kdf: KdfArg,
    },
    /// Sign a snapshot: the given provider cards and plugin publishers, as one file patients can trust.
    Sign {
        /// The registry key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Output file.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: PathBuf,
        /// Vouch for the publisher of this signed plugin: the key that signed it,
        /// under the publisher name in its manifest (repeatable).
        #[arg(long = "publisher", value_name = "PLUGIN.wasm")]
        publishers: Vec<PathBuf>,
        /// Provider card files (or card text).
        #[arg(value_name = "CARD", required_unless_present = "publishers")]
        cards: Vec<String>,
    },
    /// Trust a registry snapshot in your wallet, checking it is signed by the key you expect.
    Trust {
        /// The snapshot file.
        file: PathBuf,
        /// The registry key's thumbprint, as the registry publishes it.
        #[arg(long, value_name = "THUMBPRINT", allow_hyphen_values = true)]
        key: String,
    },
    /// List the registries and providers your wallet trusts.
    List(JsonArg),
}

/// `settings`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  amanat settings
  amanat settings --viewer https://relay.example/   # offline share codes open there on a phone
  amanat settings --no-viewer                        # offline codes hold the bare AMANAT: link")]
pub struct SettingsArgs {
    /// The viewer whose address offline share codes carry, so a phone's camera opens them in
    /// the browser: an Amanat relay's address, or wherever `amanat viewer export` was put.
    #[arg(long, value_name = "URL", conflicts_with = "no_viewer")]
    pub viewer: Option<String>,
    /// Offline share codes hold the bare AMANAT: link (opened by `amanat receive` or the web wallet).
    #[arg(long)]
    pub no_viewer: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
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
    /// A phone number (e.g. "+92 300 1234567"): given only to a facility you register at
    /// with `amanat scan-share`, never in a share of records.
    #[arg(long, value_name = "NUMBER")]
    pub phone: Option<String>,
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
    /// Also seal every stored value again under a new key, so that an old copy of
    /// keyring.age with the old passphrase opens nothing. Use it when the old
    /// passphrase, or a backup of the wallet directory, may be known to someone.
    /// Takes about as long as exporting the wallet; safe to interrupt.
    #[arg(long)]
    pub rotate_keys: bool,
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
    /// Import a file whose Patient differs from the profile's (name, birth date, gender,
    /// CNIC, ABHA) anyway: without it such a file is refused, naming both people.
    #[arg(long)]
    pub accept_mismatch: bool,
    /// When the profile was made without a name (`amanat init` with no --name) and a
    /// file names its patient, fill the profile with that name, birth date, gender and
    /// national IDs without asking (in a terminal you are asked).
    #[arg(long)]
    pub fill_profile: bool,
    /// Save a signed prescription even when an installed pharmacy plugin finds you are
    /// allergic to it (without it, you are asked in a terminal, and it is skipped in scripts).
    #[arg(long)]
    pub accept_warnings: bool,
    /// Print a JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// What you measured: bp, glucose, weight, hba1c, temperature, spo2, pulse.
    #[arg(value_name = "KIND", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Kind>()))]
    pub kind: Kind,
    /// The value: 132/84 (bp), 142 (glucose, mg/dL), 71.5 (weight, kg), 6.9 (hba1c, %),
    /// 37.2 or 98.6 (temperature), 97 (spo2, %), 72 (pulse, per minute).
    #[arg(value_name = "VALUE", allow_hyphen_values = true)]
    pub value: String,
    /// The unit, when not the usual one: mmol/L (glucose), lb (weight),
    /// mmol/mol (hba1c), F (temperature). It is converted and the value as you
    /// typed it kept in a note.
    #[arg(long)]
    pub unit: Option<String>,
    /// A glucose taken fasting (before breakfast).
    #[arg(long)]
    pub fasting: bool,
    /// When you took it [default: now]: 2026-11-30 or 2026-11-30T08:15:00+05:00.
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
    /// Print the saved record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `summary`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  amanat summary
  amanat summary --pdf summary.pdf --lang ur --relay https://relay.example
  amanat summary --pdf summary.pdf --expires 7d        (the records inside the QR code)")]
pub struct SummaryArgs {
    /// Write the summary as a PDF (A4, one page, two at most) with the QR code of a new
    /// share of its records: at --relay (revocable), else inside the QR code itself.
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
    /// The language of the PDF's labels, beside English: en, ur (right to left) or hi.
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = ["en", "ur", "hi"], requires = "pdf")]
    pub lang: String,
    /// Put the records of the PDF's QR code at this relay (a small QR code you can revoke).
    #[arg(long, value_name = "URL", requires = "pdf")]
    pub relay: Option<String>,
    /// How long the PDF's QR code opens the records: 30m, 24h, 7d, 2w (at most a year).
    #[arg(long, value_name = "DURATION", default_value = "30d", requires = "pdf")]
    pub expires: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `emergency-card`.
#[derive(Debug, Args)]
pub struct EmergencyCardArgs {
    /// Make the card, or renew it, with its QR code at this relay.
    #[arg(long, value_name = "URL")]
    pub relay: Option<String>,
    /// Someone to call, as it should read on the card (repeat for several)
    /// [default on renewal: the contacts of the card before].
    #[arg(long, value_name = "WHO", requires = "relay")]
    pub contact: Vec<String>,
    /// Revoke the card: its QR code opens nothing from now on.
    #[arg(long, conflicts_with = "relay")]
    pub revoke: bool,
    /// Also write the card as text to FILE (to print).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the card as a PDF (A4) to FILE.
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
    /// The language of the PDF's labels, beside English: en, ur (right to left) or hi.
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = ["en", "ur", "hi"], requires = "pdf")]
    pub lang: String,
    /// Also write its QR code as a PNG image.
    #[arg(long, value_name = "FILE")]
    pub qr_png: Option<PathBuf>,
    /// Print JSON.
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
#[cfg(feature = "demo")]
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
#[cfg(feature = "bench")]
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Only one part: `vault` (import, list, search, show), `share` (create, receive,
    /// QR size), `cards` (SMART Health Card and signed-record verification) or `plugins` (compile, cached
    /// load, warm call; needs scripts/build-plugins).
    #[arg(long, value_parser = ["vault", "share", "cards", "plugins"])]
    pub only: Option<String>,
    /// Where the built plugins are (for `plugins`).
    #[arg(long, default_value = "target/plugins", value_name = "DIR")]
    pub plugins: PathBuf,
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

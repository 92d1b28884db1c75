//! What the local API says, as the web wallet reads it: the types of
//! [`wallet_core::contract`], shared with the server that writes them.

pub use wallet_core::contract::{
    ApproveRequest, AuditCheck, AuditRow, CardOf, ChangePassphrase, Changed, CheckedIn, CreatedShare,
    Deleted, Discarded, EmergencyCard, Entered, Export, FacilityDetail, Imported, Init, Locked,
    NewEmergencyCard, NewProfile, NewReading, NewShare, OpenRequest, PluginRow, PluginRun, PrintSummary,
    ProfileInfo, RecordDetail, RecordRow, RequestDetail, RequestRow, RunPlugin, Saved, ScanShare, Series,
    Settings as WalletSettings, ShareRow, SignIn, Status, SummaryOf, Unlock,
};
pub use wallet_core::summary::{Flag, Item, Latest, Point};

/// `YYYY-MM-DD hh:mm` in UTC for a time.
pub fn human_time(seconds: i64) -> String {
    wallet_core::share::grant::human_time(seconds)
}

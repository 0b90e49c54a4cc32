//! The state every handler shares.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use aanwezig_storage::prelude::*;
use ipnet::IpNet;
use url::Url;

use crate::auth::LoginLimiter;
use crate::clock::Clock;
use crate::error::PageError;
use crate::follow::{FeedPosition, FollowTask, Follower};
use crate::live::Live;

/// Settings of a running app.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark the session cookie `Secure` (behind HTTPS). Without
    /// [`Config::public_url`] this also says which scheme the browser uses
    /// (for the Origin check and feed addresses).
    pub secure_cookies: bool,
    /// Sign a session out after this long without a request.
    pub idle_timeout: chrono::Duration,
    /// Sign a session out this long after it started, whatever the activity.
    pub session_lifetime: chrono::Duration,
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies).
    /// Empty: the header is ignored and the TCP peer is the client.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// The address people open aanwezig at (`--public-url`): feed links
    /// are built on it and the Origin check compares with it.
    pub public_url: Option<PublicUrl>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            idle_timeout: chrono::Duration::minutes(30),
            session_lifetime: chrono::Duration::hours(12),
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

impl Config {
    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|p| p.contains(ip))
    }

    /// The scheme browsers use for this app when no public URL says so.
    pub fn scheme(&self) -> &'static str {
        if self.secure_cookies {
            "https"
        } else {
            "http"
        }
    }
}

/// A reverse proxy's address or network (`10.0.0.5`, `10.0.0.0/24`,
/// `fd00::/8`), for `--trusted-proxy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

impl TrustedProxy {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let net = if s.contains('/') {
            IpNet::from_str(s).map_err(|_| {
                format!("{s:?} is geen netwerk: schrijf een adres met /prefix, bijvoorbeeld 10.0.0.0/24")
            })?
        } else {
            IpNet::from(IpAddr::from_str(s).map_err(|_| {
                format!("{s:?} is geen IP-adres: schrijf bijvoorbeeld 10.0.0.5 of 10.0.0.0/24")
            })?)
        };
        Ok(TrustedProxy(net.trunc()))
    }
}

/// The public base URL of the app (`--public-url https://aanwezig.school.nl`):
/// http or https, a host, an optional port, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    /// The origin browsers send for pages of this address.
    pub fn origin(&self) -> url::Origin {
        self.0.origin()
    }

    /// `scheme://host[:port]`, without a trailing slash: put a path after it.
    pub fn base(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let url = Url::parse(s).map_err(|e| {
            format!("{s:?} is geen volledig adres ({e}): schrijf bijvoorbeeld https://aanwezig.school.nl")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{s:?}: het adres moet met https:// (of http://) beginnen"
            ));
        }
        if url.host().is_none() {
            return Err(format!("{s:?}: er staat geen servernaam in het adres"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{s:?}: een gebruikersnaam of wachtwoord hoort niet in het adres"
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{s:?}: alleen schema, servernaam en eventueel poort; aanwezig draait niet onder een pad"
            ));
        }
        Ok(PublicUrl(url))
    }
}

/// Cheap to clone: everything is behind `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub live: Arc<RwLock<Live>>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub limiter: Arc<LoginLimiter>,
    /// Uploaded imports waiting for confirmation, running or finished.
    pub imports: Arc<crate::pages::import::ImportJobs>,
    /// The watched import folder (`serve --import-dir`), when there is one:
    /// its last outcomes for the Importeren page.
    pub import_dir: Option<Arc<aanwezig_app::import_dir::ImportDirStatus>>,
    /// Counts the signed-in changes this app made (every state-changing
    /// request that passed the CSRF check, and every reload), so that
    /// pages may cache what they derive from the store: see
    /// [`AppState::changes`].
    changes: Arc<std::sync::atomic::AtomicU64>,
    /// The address the server listens on, set by [`crate::serve`]: a
    /// `Host` equal to it may be used in feed links (see
    /// `pages::tasks::base_url`).
    listen: Arc<OnceLock<SocketAddr>>,
    /// Where the live school stands in the store's change feed.
    position: Arc<FeedPosition>,
    /// The task that follows the change feed ([`crate::follow`]); it ends
    /// when the last clone of this state is dropped.
    _follow: Arc<FollowTask>,
}

impl AppState {
    /// Loads the school from the store and evaluates it as of the clock's
    /// today, and starts following the store's change feed
    /// ([`crate::follow`]) from where the school was loaded: the live
    /// school then shows every change in the database, whichever app
    /// server made it. Must be called inside a tokio runtime.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<AppState, PageError> {
        // Read before loading: a change committed while the school loads
        // is applied (again) by the follower, never missed.
        let position = Arc::new(FeedPosition::at(store.last_change().await?));
        let live = Arc::new(RwLock::new(
            Live::load(store.as_ref(), clock.today()).await?,
        ));
        let changes: Arc<std::sync::atomic::AtomicU64> = Arc::default();
        let follow = Follower {
            store: store.clone(),
            live: live.clone(),
            clock: clock.clone(),
            changes: changes.clone(),
            position: position.clone(),
        }
        .spawn();
        Ok(AppState {
            store,
            live,
            clock,
            config: Arc::new(config),
            limiter: Arc::new(LoginLimiter::default()),
            imports: Arc::default(),
            import_dir: None,
            changes,
            listen: Arc::default(),
            position,
            _follow: Arc::new(follow),
        })
    }

    /// The address the server listens on, once it does.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.get().copied()
    }

    /// Notes the address the server listens on (the first call wins).
    pub(crate) fn set_listen_addr(&self, addr: SocketAddr) {
        let _ = self.listen.set(addr);
    }

    /// The number of changes so far (see the field's docs).
    pub fn changes(&self) -> u64 {
        // The app's own changes, and every committed write to the store
        // (also one made beside the app, e.g. by a test or a helper that
        // writes straight to the store).
        self.changes.load(std::sync::atomic::Ordering::Acquire) + self.store.write_count()
    }

    /// Notes a change.
    pub fn changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Reads the live school, first moving it to today if the date changed.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, Live>, PageError> {
        let today = self.clock.today();
        let stale = self.live.read().map_err(|_| poisoned())?.today != today;
        if stale {
            self.write()?.set_today(today);
        }
        self.live.read().map_err(|_| poisoned())
    }

    /// Writes the live school.
    pub fn write(&self) -> Result<RwLockWriteGuard<'_, Live>, PageError> {
        self.live.write().map_err(|_| poisoned())
    }

    /// Reloads everything from the store (after an import or a settings
    /// change), so that the user sees it on the next page; the change
    /// feed's follower then skips what this load already has.
    pub async fn reload(&self) -> Result<(), PageError> {
        let _apply = self.position.apply.lock().await;
        let upto = self.store.last_change().await?;
        let live = Live::load(self.store.as_ref(), self.clock.today()).await?;
        *self.write()? = live;
        self.position.loaded_upto(upto);
        self.changed();
        Ok(())
    }

    /// Saves a settings document checked and audited in one transaction
    /// ([`Documents::save_document_checked`]): against `expected`, the
    /// version the user's form (or the live school) was made from (`0`:
    /// none was stored), or without it against the version stored now.
    /// `detail` gets the new version number and returns the audit detail.
    /// Someone else's save in between is [`PageError::Stale`], linking to
    /// `href`. Returns the new version.
    ///
    /// [`Documents::save_document_checked`]: aanwezig_storage::Documents::save_document_checked
    pub async fn save_setting(
        &self,
        user: &crate::auth::CurrentUser,
        doc: aanwezig_storage::DocumentWrite<'_>,
        expected: Option<u32>,
        detail: impl FnOnce(u32) -> String,
        href: &str,
    ) -> Result<u32, PageError> {
        use aanwezig_storage::VersionCheck;
        let expected = match expected {
            Some(v) => (v > 0).then_some(v),
            None => self.store.document_version(doc.kind()).await?,
        };
        let (check, next) = match expected {
            Some(v) => (VersionCheck::Version(v), v + 1),
            None => (VersionCheck::New, 1),
        };
        let entry = aanwezig_storage::AuditEntry {
            at: self.clock.now(),
            username: user.user.username.clone(),
            action: aanwezig_storage::AuditAction::Settings,
            student: None,
            detail: detail(next),
        };
        self.store
            .save_document_checked(doc, check, &user.user.username, self.clock.now(), &entry)
            .await
            .map_err(|e| PageError::from_store(e, "deze instelling", href))
    }
}

fn poisoned() -> PageError {
    PageError::Internal("gedeelde toestand is beschadigd".into())
}

/// The watched import folder imports into the running app.
impl aanwezig_app::import_dir::ImportHost for AppState {
    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    fn reload(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move { AppState::reload(self).await.map_err(|e| e.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let one: TrustedProxy = "10.0.0.5".parse().unwrap();
        assert!(one.contains("10.0.0.5".parse().unwrap()));
        assert!(!one.contains("10.0.0.6".parse().unwrap()));
        let net: TrustedProxy = " 10.0.0.9/24".parse().unwrap();
        assert!(net.contains("10.0.0.200".parse().unwrap()));
        assert!(
            net.contains("::ffff:10.0.0.1".parse().unwrap()),
            "IPv4-mapped"
        );
        assert!(!net.contains("10.0.1.1".parse().unwrap()));
        let v6: TrustedProxy = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        for bad in ["", "proxy.school.nl", "10.0.0.0/33", "10.0.0.1:80"] {
            let e = bad.parse::<TrustedProxy>().unwrap_err();
            assert!(e.contains("10.0.0"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_public_url_is_scheme_host_and_port_only() {
        let u: PublicUrl = "https://aanwezig.school.nl".parse().unwrap();
        assert_eq!(u.base(), "https://aanwezig.school.nl");
        let u: PublicUrl = "http://10.1.2.3:8080/".parse().unwrap();
        assert_eq!(u.base(), "http://10.1.2.3:8080");
        let u: PublicUrl = "HTTPS://Aanwezig.School.NL:443".parse().unwrap();
        assert_eq!(u.base(), "https://aanwezig.school.nl");
        for bad in [
            "aanwezig.school.nl",
            "ftp://aanwezig.school.nl",
            "https://aanwezig.school.nl/aanwezig",
            "https://aanwezig.school.nl/?x=1",
            "https://jan:geheim@aanwezig.school.nl",
            "https://",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }
}

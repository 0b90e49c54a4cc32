//! Security headers on every response, and CSRF protection on every
//! state-changing request.
//!
//! CSRF is checked twice: the browser's `Sec-Fetch-Site` / `Origin` must say
//! same origin (scheme, host and port; see [`expected_origin`]), and a signed-in request must carry its session's token —
//! in the `csrf` form field (URL-encoded forms), the `X-CSRF-Token` header
//! (API), or the `csrf` query parameter (file uploads, whose multipart body
//! is not buffered here). Together with `SameSite=Strict` cookies this
//! follows the OWASP cheat sheet.
//!
//! [`client_ip`] says who the client is, believing `X-Forwarded-For` only
//! from trusted proxies.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_extra::extract::CookieJar;
use http_body_util::BodyExt;
use tower_http::set_header::SetResponseHeaderLayer;
use url::Url;

use crate::auth::SESSION_COOKIE;
use crate::error::PageError;
use crate::state::{AppState, Config};

/// No inline script or style anywhere; nothing from other origins; no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response of `router`.
pub fn headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ))
        .layer(set(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        // Pages hold children's data: never keep them in a shared cache.
        .layer(set(header::CACHE_CONTROL, "no-store"))
}

/// A refusal: a Dutch page, or for the JSON API (and clients that ask for
/// JSON) the API's error body, `{"error": "forbidden", "message": …}`.
fn forbidden(json: bool, msg: &str) -> Response {
    if json {
        let body = serde_json::json!({"error": "forbidden", "message": msg});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    (StatusCode::FORBIDDEN, PageError::BadRequest(msg.to_owned())).into_response()
}

/// Whether a request is one of the JSON API, or asks for JSON.
fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The origin this app's pages have: the public URL's when one is
/// configured, otherwise the request's `Host` with the scheme the app is
/// served over (https when cookies are `Secure`). `None` when the `Host`
/// is missing or no host at all.
fn expected_origin(config: &Config, headers: &HeaderMap) -> Option<url::Origin> {
    if let Some(public) = &config.public_url {
        return Some(public.origin());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    if host.is_empty() || host.contains(['/', '\\', '@', '?', '#']) {
        return None;
    }
    let url = Url::parse(&format!("{}://{host}/", config.scheme())).ok()?;
    Some(url.origin())
}

/// Whether the browser says the request came from this app's own pages:
/// `Sec-Fetch-Site` (when sent) must be same-origin, and `Origin` (when
/// sent) must equal [`expected_origin`] in scheme, host and port.
fn same_origin(config: &Config, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let sent = origin
        .to_str()
        .ok()
        .and_then(|o| Url::parse(o).ok())
        .map(|u| u.origin());
    match (sent, expected_origin(config, headers)) {
        (Some(sent), Some(expected)) if sent.is_tuple() && sent == expected => true,
        (sent, expected) => {
            // Behind HTTPS without --secure-cookies or --public-url every
            // form fails here: say so to whoever reads the log.
            tracing::warn!(
                origin = ?origin,
                sent = ?sent.map(|o| o.ascii_serialization()),
                expected = ?expected.map(|o| o.ascii_serialization()),
                "refused a request from another origin (behind HTTPS? set --public-url or --secure-cookies)"
            );
            false
        }
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted
/// proxy ([`Config::trusted_proxies`]), the rightmost `X-Forwarded-For`
/// hop that is not a trusted proxy itself. Hops left of that one were
/// written by the client and are never believed. A hop that is no address
/// stops the walk at the last trusted hop (so garbage counts against the
/// proxy, not against someone else). IPv4-mapped IPv6 addresses are taken
/// as IPv4.
pub fn client_ip(config: &Config, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let mut client = peer.to_canonical();
    if !config.is_trusted_proxy(client) {
        return client;
    }
    // Proxies append: the last header line, and its last hop, is nearest.
    for line in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(line) = line.to_str() else {
            return client;
        };
        for hop in line.rsplit(',') {
            let Some(ip) = parse_hop(hop.trim()) else {
                return client;
            };
            client = ip.to_canonical();
            if !config.is_trusted_proxy(client) {
                return client;
            }
        }
    }
    client
}

/// One `X-Forwarded-For` hop: an address, some proxies add a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The CSRF check, as middleware over the whole app.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let json = wants_json(&req);
    if !same_origin(&state.config, req.headers()) {
        return forbidden(
            json,
            "Dit verzoek kwam niet uit de app zelf en is geweigerd.",
        );
    }
    let jar = CookieJar::from_headers(req.headers());
    let Some(token) = jar.get(SESSION_COOKIE) else {
        // Not signed in: only the sign-in form, which the origin check covers.
        return next.run(req).await;
    };
    let expected = match state
        .store
        .session(&aanwezig_auth::token_hash(token.value()))
        .await
    {
        Ok(Some(s)) => s.csrf_token,
        // A stale cookie: the handler's own sign-in check rejects the request.
        Ok(None) => return next.run(req).await,
        Err(e) => return PageError::from(e).into_response(),
    };
    let from_header = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
    });
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let (req, from_form) = if is_form && from_header.is_none() && from_query.is_none() {
        let (parts, body) = req.into_parts();
        // Forms are small; 1 MiB is far more than any form of aanwezig.
        let bytes: Bytes = match http_body_util::Limited::new(body, 1 << 20).collect().await {
            Ok(c) => c.to_bytes(),
            Err(_) => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "Het formulier is te groot.")
                    .into_response()
            }
        };
        let field = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        (Request::from_parts(parts, Body::from(bytes)), field)
    } else {
        (req, None)
    };
    let provided = from_header.or(from_query).or(from_form);
    if provided.as_deref() != Some(expected.as_str()) {
        return forbidden(
            json,
            if json {
                "De kop X-CSRF-Token ontbreekt of klopt niet: vraag het token op bij /api/sessie."
            } else {
                "Dit formulier is verlopen of komt niet uit de app. Laad de pagina opnieuw en probeer het nog eens."
            },
        );
    }
    let response = next.run(req).await;
    // A signed-in change went through: what pages derived from the store
    // (not only from the live school) may be stale now.
    state.changed();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(proxies: &[&str]) -> Config {
        Config {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..Config::default()
        }
    }

    fn xff(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", HeaderValue::from_str(l).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let peer = ip("10.0.0.2");
        let h = xff(&["6.6.6.6, 198.51.100.7"]);
        // Not trusted: the header is ignored.
        assert_eq!(client_ip(&config(&[]), peer, &h), peer);
        assert_eq!(client_ip(&config(&["10.0.0.3"]), peer, &h), peer);
        // Trusted: the rightmost hop that is no trusted proxy.
        let c = config(&["10.0.0.0/24"]);
        assert_eq!(client_ip(&c, peer, &h), ip("198.51.100.7"));
        let h = xff(&["6.6.6.6, 198.51.100.7, 10.0.0.9"]);
        assert_eq!(client_ip(&c, peer, &h), ip("198.51.100.7"));
        // Several header lines: the last is nearest.
        let h = xff(&["6.6.6.6", "198.51.100.7"]);
        assert_eq!(client_ip(&c, peer, &h), ip("198.51.100.7"));
        // Ports and IPv6 in brackets.
        let h = xff(&["[2001:db8::7]:443"]);
        assert_eq!(client_ip(&c, peer, &h), ip("2001:db8::7"));
        let h = xff(&["198.51.100.7:5000"]);
        assert_eq!(client_ip(&c, peer, &h), ip("198.51.100.7"));
        // Garbage stops at the last trusted hop.
        let h = xff(&["198.51.100.7, onzin, 10.0.0.9"]);
        assert_eq!(client_ip(&c, peer, &h), ip("10.0.0.9"));
        // No header: the proxy itself; IPv4-mapped peers count as IPv4.
        assert_eq!(
            client_ip(&c, ip("::ffff:10.0.0.2"), &HeaderMap::new()),
            peer
        );
    }

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origins_match_in_scheme_host_and_port() {
        let plain = Config::default();
        let tls = Config {
            secure_cookies: true,
            ..Config::default()
        };
        let h = |o| headers("school.nl", Some(o));
        assert!(same_origin(&plain, &headers("school.nl", None)));
        assert!(same_origin(&plain, &h("http://school.nl")));
        assert!(same_origin(&plain, &h("http://school.nl:80")));
        assert!(!same_origin(&plain, &h("https://school.nl")));
        assert!(same_origin(&tls, &h("https://school.nl")));
        assert!(!same_origin(&tls, &h("http://school.nl")));
        assert!(!same_origin(&plain, &h("http://school.nl:8080")));
        assert!(!same_origin(&plain, &h("http://evil.nl")));
        assert!(!same_origin(&plain, &h("null")));
        assert!(!same_origin(
            &plain,
            &headers("school.nl@evil.nl", Some("http://evil.nl"))
        ));
        let public = Config {
            public_url: Some("https://aanwezig.school.nl".parse().unwrap()),
            ..Config::default()
        };
        let h = |o| headers("intern:8080", Some(o));
        assert!(same_origin(&public, &h("https://aanwezig.school.nl")));
        assert!(!same_origin(&public, &h("http://intern:8080")));
    }
}

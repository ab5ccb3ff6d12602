//! The `/stats` text body and its Prometheus twin, from one field table.
use super::{ProxyStats, StatsStrings};

/// Prometheus metric type of a field.
#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

/// How a field's value prints.
enum Value<'a> {
    Int(i64),
    /// Thousandths, printed with three decimals.
    Milli(i64),
    /// Several numbers on one line, space-separated.
    List(&'a [i64]),
    /// Bytes; text body only.
    Text(&'a [u8]),
}

use Kind::{Counter, Gauge};
use Value::{Int, List, Milli, Text};

/// Every field in upstream's order.
fn fields<'a>(s: &'a ProxyStats, t: &StatsStrings<'a>) -> [(&'static str, Kind, Value<'a>); 61] {
    [
        ("pid", Gauge, Int(s.pid)),
        ("start_time", Gauge, Int(s.start_time)),
        ("current_time", Gauge, Int(s.current_time)),
        ("uptime", Gauge, Int(s.uptime)),
        ("vmsize_bytes", Gauge, Int(s.vmsize_bytes)),
        ("vmrss_bytes", Gauge, Int(s.vmrss_bytes)),
        ("vmdata_bytes", Gauge, Int(s.vmdata_bytes)),
        ("config_filename", Gauge, Text(t.config_filename)),
        ("config_loaded_at", Gauge, Int(s.config_loaded_at)),
        ("config_size", Gauge, Int(s.config_size)),
        ("config_md5", Gauge, Text(t.config_md5)),
        ("config_auth_clusters", Gauge, Int(s.config_auth_clusters)),
        ("workers", Gauge, Int(s.workers)),
        ("queries_get", Counter, Int(s.queries_get)),
        ("qps_get", Gauge, Milli(s.qps_get_milli)),
        (
            "tot_forwarded_queries",
            Counter,
            Int(s.tot_forwarded_queries),
        ),
        (
            "expired_forwarded_queries",
            Counter,
            Int(s.expired_forwarded_queries),
        ),
        ("dropped_queries", Counter, Int(s.dropped_queries)),
        (
            "tot_forwarded_responses",
            Counter,
            Int(s.tot_forwarded_responses),
        ),
        ("dropped_responses", Counter, Int(s.dropped_responses)),
        (
            "tot_forwarded_simple_acks",
            Counter,
            Int(s.tot_forwarded_simple_acks),
        ),
        ("dropped_simple_acks", Counter, Int(s.dropped_simple_acks)),
        ("active_rpcs_created", Counter, Int(s.active_rpcs_created)),
        ("active_rpcs", Gauge, Int(s.active_rpcs)),
        ("rpc_dropped_answers", Counter, Int(s.rpc_dropped_answers)),
        ("rpc_dropped_running", Counter, Int(s.rpc_dropped_running)),
        ("window_clamp", Gauge, Int(s.window_clamp)),
        ("total_ready_targets", Gauge, Int(s.total_ready_targets)),
        (
            "total_allocated_targets",
            Gauge,
            Int(s.total_allocated_targets),
        ),
        (
            "total_declared_targets",
            Gauge,
            Int(s.total_declared_targets),
        ),
        (
            "total_inactive_targets",
            Gauge,
            Int(s.total_inactive_targets),
        ),
        ("total_connections", Gauge, Int(s.total_connections)),
        (
            "total_encrypted_connections",
            Gauge,
            Int(s.total_encrypted_connections),
        ),
        (
            "total_allocated_connections",
            Gauge,
            Int(s.total_allocated_connections),
        ),
        (
            "total_allocated_outbound_connections",
            Gauge,
            Int(s.total_allocated_outbound_connections),
        ),
        (
            "total_allocated_inbound_connections",
            Gauge,
            Int(s.total_allocated_inbound_connections),
        ),
        (
            "total_allocated_socket_connections",
            Gauge,
            Int(s.total_allocated_socket_connections),
        ),
        ("total_dh_connections", Gauge, Int(s.total_dh_connections)),
        ("total_dh_rounds", Counter, List(&s.total_dh_rounds)),
        (
            "total_special_connections",
            Gauge,
            Int(s.total_special_connections),
        ),
        (
            "total_max_special_connections",
            Gauge,
            Int(s.total_max_special_connections),
        ),
        (
            "total_accept_connections_failed",
            Counter,
            List(&s.total_accept_connections_failed),
        ),
        ("ext_connections", Gauge, Int(s.ext_connections)),
        (
            "ext_connections_created",
            Counter,
            Int(s.ext_connections_created),
        ),
        (
            "total_active_network_events",
            Gauge,
            Int(s.total_active_network_events),
        ),
        (
            "total_network_buffers_used_size",
            Gauge,
            Int(s.total_network_buffers_used_size),
        ),
        (
            "total_network_buffers_allocated_bytes",
            Gauge,
            Int(s.total_network_buffers_allocated_bytes),
        ),
        (
            "total_network_buffers_used",
            Gauge,
            Int(s.total_network_buffers_used),
        ),
        (
            "total_network_chunks_allocated",
            Gauge,
            Int(s.total_network_chunks_allocated),
        ),
        (
            "total_network_chunks_allocated_max",
            Gauge,
            Int(s.total_network_chunks_allocated_max),
        ),
        ("mtproto_proxy_errors", Counter, Int(s.mtproto_proxy_errors)),
        (
            "connections_failed_lru",
            Counter,
            Int(s.connections_failed_lru),
        ),
        (
            "connections_failed_flood",
            Counter,
            Int(s.connections_failed_flood),
        ),
        ("http_connections", Gauge, Int(s.http_connections)),
        ("pending_http_queries", Gauge, Int(s.pending_http_queries)),
        ("http_queries", Counter, Int(s.http_queries)),
        ("http_bad_headers", Counter, Int(s.http_bad_headers)),
        ("http_qps", Gauge, Milli(s.http_qps_milli)),
        ("proxy_mode", Gauge, Int(s.proxy_mode)),
        ("proxy_tag_set", Gauge, Int(s.proxy_tag_set)),
        ("version", Gauge, Text(t.version)),
    ]
}

fn push_milli(out: &mut Vec<u8>, v: i64) {
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    out.extend_from_slice(format!("{sign}{}.{:03}", abs / 1000, abs % 1000).as_bytes());
}

/// Copies `text` with control bytes replaced by `?`.
fn push_sanitized(out: &mut Vec<u8>, text: &[u8]) {
    out.extend(
        text.iter()
            .map(|&b| if b < 0x20 || b == 0x7f { b'?' } else { b }),
    );
}

/// Copies `text` to `out` if it fits; returns its length either way.
fn deliver(text: &[u8], out: &mut [u8]) -> usize {
    if let Some(dst) = out.get_mut(..text.len()) {
        dst.copy_from_slice(text);
    }
    text.len()
}

/// Renders the `/stats` body into `out` if it fits (else `out` is left
/// untouched) and returns its length, like snprintf without the NUL.
pub fn render_text(stats: &ProxyStats, strings: &StatsStrings<'_>, out: &mut [u8]) -> usize {
    let mut text = Vec::with_capacity(2048);
    for (name, _, value) in fields(stats, strings) {
        text.extend_from_slice(name.as_bytes());
        text.push(b'\t');
        match value {
            Int(v) => text.extend_from_slice(v.to_string().as_bytes()),
            Milli(v) => push_milli(&mut text, v),
            List(vs) => {
                let joined: Vec<String> = vs.iter().map(i64::to_string).collect();
                text.extend_from_slice(joined.join(" ").as_bytes());
            }
            Text(bytes) => push_sanitized(&mut text, bytes),
        }
        text.push(b'\n');
    }
    deliver(&text, out)
}

/// Renders the numeric fields in Prometheus text format (`# TYPE
/// mtproxy_<name> gauge|counter`, then `mtproxy_<name> <value>`; list fields
/// get one sample per element labelled `{index="i"}`; string fields are
/// left out). Same length / fit rule as [`render_text`].
pub fn render_prometheus(stats: &ProxyStats, out: &mut [u8]) -> usize {
    let mut text = Vec::with_capacity(8192);
    for (name, kind, value) in fields(stats, &StatsStrings::default()) {
        let kind = match kind {
            Gauge => "gauge",
            Counter => "counter",
        };
        let head = format!("# TYPE mtproxy_{name} {kind}\n");
        match value {
            Int(v) => text.extend_from_slice(format!("{head}mtproxy_{name} {v}\n").as_bytes()),
            Milli(v) => {
                text.extend_from_slice(format!("{head}mtproxy_{name} ").as_bytes());
                push_milli(&mut text, v);
                text.push(b'\n');
            }
            List(vs) => {
                text.extend_from_slice(head.as_bytes());
                for (i, v) in vs.iter().enumerate() {
                    let line = format!("mtproxy_{name}{{index=\"{i}\"}} {v}\n");
                    text.extend_from_slice(line.as_bytes());
                }
            }
            Text(_) => {}
        }
    }
    deliver(&text, out)
}

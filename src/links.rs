//! `mtproxy-rust links --users FILE --server HOST [--server HOST…] [--port N]
//! [--domain NAME] [--json]`: every user's links, for handing out, for each
//! server address given (say, the host's IPv4 and IPv6 addresses). Each
//! secret key is shown in every form a client can use: plain, `dd` (padded)
//! and, when a domain is known (the secret's own `ee` form or `--domain`),
//! `ee` (fake TLS).

use std::process::ExitCode;

use mtproxy_core::net::obfs2::{link_secret, SECRET_FAKE_TLS, SECRET_PADDED, SECRET_PLAIN};
use mtproxy_core::users::{parse_users, User};

pub const USAGE: &str =
    "usage: mtproxy-rust links --users FILE --server HOST [--server HOST...] [--port N] [--domain NAME] [--json]";

struct Options {
    users: String,
    servers: Vec<String>,
    port: u16,
    domain: Option<String>,
    json: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut users = None;
    let mut servers = Vec::new();
    let mut port = 443;
    let mut domain = None;
    let mut json = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if name == "--json" {
            json = true;
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().ok_or(format!("{name} needs a value"))?,
        };
        match name {
            "--users" => users = Some(value),
            "--server" => servers.push(value),
            "--domain" => domain = Some(value),
            "--port" => {
                port = value
                    .parse()
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or(format!("--port: `{value}` is not a port"))?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Options {
        users: users.ok_or("--users FILE is required")?,
        servers: if servers.is_empty() {
            return Err("--server HOST is required".into());
        } else {
            servers
        },
        port,
        domain,
        json,
    })
}

/// One link form of one secret key.
struct Link {
    form: &'static str,
    secret: String,
}

fn user_links(user: &User, domain: Option<&str>) -> Result<Vec<Link>, String> {
    let mut keys: Vec<([u8; 16], Option<Vec<u8>>)> = Vec::new();
    for s in &user.secrets {
        let own = (s.kind == SECRET_FAKE_TLS).then(|| s.domain[..s.domain_len].to_vec());
        match keys.iter_mut().find(|(k, _)| *k == s.key) {
            Some((_, d)) if d.is_none() => *d = own,
            Some(_) => {}
            None => keys.push((s.key, own)),
        }
    }
    let mut links = Vec::new();
    for (key, own) in keys {
        for (name, kind) in [("plain", SECRET_PLAIN), ("dd", SECRET_PADDED)] {
            let secret = link_secret(&key, kind, &[]).ok_or("unformattable secret")?;
            links.push(Link { form: name, secret });
        }
        if let Some(d) = own.or_else(|| domain.map(|d| d.as_bytes().to_vec())) {
            let secret = link_secret(&key, SECRET_FAKE_TLS, &d).ok_or_else(|| {
                format!(
                    "--domain: `{}` is not a domain name",
                    String::from_utf8_lossy(&d)
                )
            })?;
            links.push(Link { form: "ee", secret });
        }
    }
    Ok(links)
}

fn query(o: &Options, server: &str, secret: &str) -> String {
    format!("server={server}&port={}&secret={secret}", o.port)
}

fn render(o: &Options, users: &[User]) -> Result<String, String> {
    let mut text = String::new();
    let mut json = Vec::new();
    for user in users {
        let links = user_links(user, o.domain.as_deref())?;
        if o.json {
            let list: Vec<_> = o
                .servers
                .iter()
                .flat_map(|server| links.iter().map(move |l| (server, l)))
                .map(|(server, l)| {
                    serde_json::json!({
                        "server": server,
                        "form": l.form,
                        "secret": l.secret,
                        "tg": format!("tg://proxy?{}", query(o, server, &l.secret)),
                        "https": format!("https://t.me/proxy?{}", query(o, server, &l.secret)),
                    })
                })
                .collect();
            json.push(serde_json::json!({
                "user": user.name,
                "disabled": user.disabled,
                "links": list,
            }));
        } else {
            let state = if user.disabled { " (disabled)" } else { "" };
            text.push_str(&format!("{}{state}\n", user.name));
            for (server, l) in o
                .servers
                .iter()
                .flat_map(|s| links.iter().map(move |l| (s, l)))
            {
                let q = query(o, server, &l.secret);
                text.push_str(&format!(
                    "  {:<5} tg://proxy?{q}\n        https://t.me/proxy?{q}\n",
                    l.form
                ));
            }
        }
    }
    if o.json {
        serde_json::to_string_pretty(&json)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    } else {
        Ok(text)
    }
}

pub fn run(args: &[String]) -> ExitCode {
    let result = parse_args(args).and_then(|o| {
        let text = std::fs::read_to_string(&o.users).map_err(|e| format!("{}: {e}", o.users))?;
        let users = parse_users(&text).map_err(|e| format!("{}: {e}", o.users))?;
        render(&o, &users)
    });
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mtproxy-rust links: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn options(extra: &str) -> Options {
        let args: Vec<String> = format!("--users u.toml --server 203.0.113.7 {extra}")
            .split_whitespace()
            .map(String::from)
            .collect();
        parse_args(&args).unwrap()
    }

    fn users() -> Vec<User> {
        parse_users(&format!(
            "[users.alice]\nsecrets = [\"dd{KEY}\", \"{KEY}\"]\n\
             [users.bob]\nsecrets = [\"ee{}6578616d706c652e636f6d\"]\ndisabled = true\n",
            "f".repeat(32)
        ))
        .unwrap()
    }

    #[test]
    fn every_form_of_every_key_is_listed_once() {
        let out = render(&options("--port 8443"), &users()).unwrap();
        let alice_forms = out.matches(&format!("secret=dd{KEY}\n")).count();
        assert_eq!(
            alice_forms, 2,
            "one tg:// and one https:// link per form: {out}"
        );
        assert!(out.contains(&format!(
            "tg://proxy?server=203.0.113.7&port=8443&secret={KEY}\n"
        )));
        assert!(
            !out.contains(&format!("ee{KEY}")),
            "no domain known for alice: {out}"
        );
        assert!(out.contains("bob (disabled)\n"));
        assert!(out.contains(&format!(
            "secret=ee{}6578616d706c652e636f6d",
            "f".repeat(32)
        )));
        let with_domain = render(&options("--domain example.org"), &users()).unwrap();
        assert!(with_domain.contains(&format!("ee{KEY}6578616d706c652e6f7267")));
    }

    #[test]
    fn json_lists_users_with_their_links() {
        let out = render(&options("--json"), &users()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["user"], "alice");
        assert_eq!(v[0]["links"].as_array().unwrap().len(), 2);
        assert_eq!(v[1]["disabled"], true);
        assert_eq!(v[1]["links"][2]["form"], "ee");
        assert!(v[0]["links"][1]["https"]
            .as_str()
            .unwrap()
            .starts_with("https://t.me/proxy?server="));
    }

    #[test]
    fn every_server_address_gets_its_links() {
        let both = options("--server 2001:db8::7 --json");
        assert_eq!(both.servers, ["203.0.113.7", "2001:db8::7"]);
        let v: serde_json::Value = serde_json::from_str(&render(&both, &users()).unwrap()).unwrap();
        let links = v[0]["links"].as_array().unwrap();
        assert_eq!(links.len(), 4, "two forms for each of two addresses");
        assert_eq!(links[2]["server"], "2001:db8::7");
        let tg = links[2]["tg"].as_str().unwrap();
        assert!(
            tg.starts_with("tg://proxy?server=2001:db8::7&port=443&secret="),
            "{tg}"
        );
        let text = render(&options("--server 2001:db8::7"), &users()).unwrap();
        assert_eq!(text.matches("server=2001:db8::7&").count(), 2 * 5);
    }

    #[test]
    fn bad_arguments_are_named() {
        let parse = |s: &str| {
            let args: Vec<String> = s.split_whitespace().map(String::from).collect();
            parse_args(&args).err().unwrap_or_default()
        };
        assert!(parse("--server h").contains("--users"));
        assert!(parse("--users u").contains("--server"));
        assert!(parse("--users u --server h --port 0").contains("not a port"));
        assert!(parse("--users u --server h --bogus 1").contains("unknown option"));
        let bad_domain = render(&options("--domain bad_domain!"), &users());
        assert!(bad_domain.unwrap_err().contains("not a domain"));
    }
}

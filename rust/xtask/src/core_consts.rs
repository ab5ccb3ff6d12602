//! Contract constants defined by core constants. An abi file writes
//! `pub const MTP_X: i32 = alias::NAME;` (with `as i32` when the core type
//! differs), `alias` being a core module one of the file's
//! `use mtproxy_core::...` lines names: the value is written once, in the
//! core. cbindgen cannot read another crate, so `cargo xtask gen` hands it
//! a copy of the abi file with each such value written out: the core's
//! literal as it is written there, or the value of its expression. A value
//! the contract's type cannot hold stops `gen` and `check`, so no cast
//! truncates.
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The files of core module `module_path` (`a/b.rs` or `a/b/mod.rs`, then
/// the files of its submodules `a/b/*.rs`, then for a module written inline
/// its parent's file `a.rs`), with their text.
pub fn module_files(root: &Path, module_path: &[String]) -> Vec<(PathBuf, String)> {
    let base = root
        .join("rust/mtproxy-core/src")
        .join(module_path.join("/"));
    let mut candidates = vec![base.with_extension("rs"), base.join("mod.rs")];
    if let Ok(dir) = fs::read_dir(&base) {
        let mut subs: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        subs.sort();
        candidates.extend(
            subs.into_iter()
                .filter(|p| p.extension() == Some("rs".as_ref())),
        );
    }
    if module_path.len() > 1 {
        if let Some(parent) = base.parent() {
            candidates.extend([parent.with_extension("rs"), parent.join("mod.rs")]);
        }
    }
    candidates
        .into_iter()
        .filter_map(|p| fs::read_to_string(&p).ok().map(|text| (p, text)))
        .collect()
}

/// `abi_text` with every constant defined by a core constant given its
/// value instead.
pub fn with_core_values(root: &Path, abi_text: &str) -> Result<String, String> {
    let aliases = core_aliases(abi_text);
    let mut out = String::with_capacity(abi_text.len());
    for line in abi_text.split_inclusive('\n') {
        match CoreConst::parse(line.trim_end_matches('\n')) {
            Some(c) => {
                let module = aliases.get(&c.alias).ok_or_else(|| {
                    format!(
                        "{}: `{}` names no `use mtproxy_core::` module",
                        c.name, c.alias
                    )
                })?;
                let files = module_files(root, module);
                let value = c.value(&files).map_err(|e| {
                    format!("{} = {}::{}: {e}", c.name, module.join("::"), c.core_name)
                })?;
                out.push_str(&format!("{}{value};\n", c.head));
            }
            None => out.push_str(line),
        }
    }
    Ok(out)
}

/// Core module paths by the name an abi file uses for them.
fn core_aliases(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    let mut statements = Vec::new();
    let mut open: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("use mtproxy_core::") {
            open = Some(String::new());
        }
        if let Some(statement) = open.as_mut() {
            statement.push_str(line);
            statement.push(' ');
            if line.ends_with(';') {
                statements.extend(open.take());
            }
        }
    }
    for statement in statements {
        let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(rest) = statement
            .strip_prefix("use mtproxy_core::")
            .and_then(|s| s.strip_suffix(';'))
        else {
            continue;
        };
        let path_of = |p: &str| p.split("::").map(str::to_string).collect::<Vec<_>>();
        if let Some((module, items)) = rest.split_once("::{") {
            let module = path_of(module);
            for item in items.trim_end_matches('}').split(',').map(str::trim) {
                let (item, name) = item.split_once(" as ").unwrap_or((item, item));
                let mut path = module.clone();
                if item != "self" {
                    path.push(item.to_string());
                }
                match path.last() {
                    Some(last) if name == "self" => map.insert(last.clone(), path.clone()),
                    _ if !name.is_empty() => map.insert(name.to_string(), path),
                    _ => None,
                };
            }
        } else if let Some((module, name)) = rest.split_once(" as ") {
            map.insert(name.to_string(), path_of(module));
        } else {
            let module = path_of(rest);
            if let Some(name) = module.last() {
                map.insert(name.clone(), module.clone());
            }
        }
    }
    map
}

/// `pub const MTP_X: TYPE = alias::NAME [as TYPE];`
#[derive(Debug, PartialEq)]
struct CoreConst {
    /// Everything up to and including `= `.
    head: String,
    name: String,
    ty: String,
    alias: String,
    core_name: String,
}

impl CoreConst {
    fn parse(line: &str) -> Option<CoreConst> {
        let rest = line.strip_prefix("pub const ")?;
        let (name, rest) = rest.split_once(": ")?;
        let (ty, value) = rest.split_once(" = ")?;
        let value = value.strip_suffix(';')?;
        let path = value.strip_suffix(&format!(" as {ty}")).unwrap_or(value);
        let (alias, core_name) = path.split_once("::")?;
        let is_name =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        (name.starts_with("MTP_") && is_name(alias) && is_name(core_name)).then(|| CoreConst {
            head: format!("pub const {name}: {ty} = "),
            name: name.to_string(),
            ty: ty.to_string(),
            alias: alias.to_string(),
            core_name: core_name.to_string(),
        })
    }

    /// The value as cbindgen should write it: the core's expression as
    /// written when it uses numbers only, else its value in decimal. A
    /// value the contract's type cannot hold is refused.
    fn value(&self, files: &[(PathBuf, String)]) -> Result<String, String> {
        let expression = definition(files, &self.core_name)?;
        let value = evaluate(&expression, files, 0)?;
        if cast(value, &self.ty)? != value {
            return Err(format!("{value} does not fit the contract's {}", self.ty));
        }
        let tokens = tokens(&expression)?;
        let numbers_only = tokens.iter().all(|t| !t.starts_with(is_name_start));
        Ok(if numbers_only {
            let written: Vec<String> = tokens.iter().map(|t| without_suffix(t)).collect();
            // cbindgen reads it again: only the spacing of a leading minus
            // and of parentheses is kept tidy.
            let text = written.join(" ").replace("( ", "(").replace(" )", ")");
            match text.strip_prefix("- ") {
                Some(rest) => format!("-{rest}"),
                None => text,
            }
        } else {
            value.to_string()
        })
    }
}

/// The value of core constant `name` of `files` (see [`evaluate`]).
pub fn value_of(files: &[(PathBuf, String)], name: &str) -> Result<i128, String> {
    evaluate(&definition(files, name)?, files, 0)
}

/// The expression of `pub const NAME: T = <expression>;` in `files`.
fn definition(files: &[(PathBuf, String)], name: &str) -> Result<String, String> {
    let head = format!("const {name}: ");
    files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .map(|l| {
            l.trim_start()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
        })
        .find_map(|l| {
            l.strip_prefix(&head)?
                .split_once(" = ")?
                .1
                .strip_suffix(';')
        })
        .map(str::to_string)
        .ok_or_else(|| "no one-line `const` definition there".to_string())
}

/// `value` as a Rust `as` cast to `ty` would give it.
fn cast(value: i128, ty: &str) -> Result<i128, String> {
    Ok(match ty {
        "i8" => i128::from(value as i8),
        "u8" => i128::from(value as u8),
        "i16" => i128::from(value as i16),
        "u16" => i128::from(value as u16),
        "i32" => i128::from(value as i32),
        "u32" => i128::from(value as u32),
        "i64" => i128::from(value as i64),
        "u64" | "usize" => i128::from(value as u64),
        _ => return Err(format!("no integer type `{ty}`")),
    })
}

/// The value of an integer constant expression: literals (decimal or hex,
/// `_` and type suffixes allowed), names of other constants of `files`,
/// parentheses, unary `-`, `* / % + - << >> & ^ |` and `as` casts.
fn evaluate(expression: &str, files: &[(PathBuf, String)], depth: usize) -> Result<i128, String> {
    if depth > 8 {
        return Err("constants nested too deep".into());
    }
    let tokens = tokens(expression)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        files,
        depth,
    };
    let value = parser.binary(0)?;
    match parser.tokens.get(parser.at) {
        None => Ok(value),
        Some(t) => Err(format!("unexpected `{t}` in `{expression}`")),
    }
}

fn tokens(expression: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || **c == '_')
            {
                word.push(c);
                chars.next();
            }
            out.push(word);
        } else if c == '<' || c == '>' {
            chars.next();
            if chars.next() != Some(c) {
                return Err(format!("`{c}` alone in `{expression}`"));
            }
            out.push(format!("{c}{c}"));
        } else if "()+-*/%&^|".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else {
            return Err(format!("`{c}` in `{expression}`"));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
    files: &'a [(PathBuf, String)],
    depth: usize,
}

/// Binary operators by binding strength, weakest first (Rust's order).
const LEVELS: &[&[&str]] = &[
    &["|"],
    &["^"],
    &["&"],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn next(&mut self) -> Option<&str> {
        let token = self.tokens.get(self.at)?;
        self.at += 1;
        Some(token)
    }

    fn binary(&mut self, level: usize) -> Result<i128, String> {
        let Some(ops) = LEVELS.get(level) else {
            return self.cast();
        };
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self
            .tokens
            .get(self.at)
            .filter(|t| ops.contains(&t.as_str()))
        {
            let op = op.clone();
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = apply(&op, left, right)
                .ok_or_else(|| format!("`{left} {op} {right}` overflows"))?;
        }
        Ok(left)
    }

    fn cast(&mut self) -> Result<i128, String> {
        let mut value = self.unary()?;
        while self.tokens.get(self.at).is_some_and(|t| t == "as") {
            self.at += 1;
            let ty = self.next().ok_or("`as` without a type")?.to_string();
            value = cast(value, &ty)?;
        }
        Ok(value)
    }

    fn unary(&mut self) -> Result<i128, String> {
        match self.next().ok_or("expression ends early")? {
            "-" => Ok(-self.unary()?),
            "(" => {
                let value = self.binary(0)?;
                match self.next() {
                    Some(")") => Ok(value),
                    _ => Err("`(` without `)`".into()),
                }
            }
            word if !word.starts_with(is_name_start) => literal(word),
            name => {
                let name = name.to_string();
                let expression = definition(self.files, &name)?;
                evaluate(&expression, self.files, self.depth + 1)
            }
        }
    }
}

fn apply(op: &str, l: i128, r: i128) -> Option<i128> {
    match op {
        "|" => Some(l | r),
        "^" => Some(l ^ r),
        "&" => Some(l & r),
        "<<" => l.checked_shl(u32::try_from(r).ok()?),
        ">>" => l.checked_shr(u32::try_from(r).ok()?),
        "+" => l.checked_add(r),
        "-" => l.checked_sub(r),
        "*" => l.checked_mul(r),
        "/" => l.checked_div(r),
        "%" => l.checked_rem(r),
        _ => None,
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// A literal token without its `_` separators and type suffix (C has
/// neither); other tokens as they are.
fn without_suffix(token: &str) -> String {
    if token.starts_with(is_name_start) {
        return token.to_string();
    }
    let digits = token.replace('_', "");
    [
        "usize", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
    ]
    .iter()
    .find_map(|s| digits.strip_suffix(s))
    .unwrap_or(&digits)
    .to_string()
}

/// `1_000`, `0xefef_efef`, `64u32`.
fn literal(word: &str) -> Result<i128, String> {
    let digits = without_suffix(word);
    let parsed = match digits.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16),
        None => digits.parse(),
    };
    parsed.map_err(|_| format!("`{word}` is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(text: &str) -> Vec<(PathBuf, String)> {
        vec![(PathBuf::from("core.rs"), text.to_string())]
    }

    #[test]
    fn a_core_constant_line_names_its_alias_and_its_type() {
        let c = CoreConst::parse("pub const MTP_A_LEN: i32 = obfs2::HEADER_LEN as i32;").unwrap();
        assert_eq!(
            (c.alias.as_str(), c.core_name.as_str(), c.ty.as_str()),
            ("obfs2", "HEADER_LEN", "i32")
        );
        assert_eq!(c.head, "pub const MTP_A_LEN: i32 = ");
        assert!(
            CoreConst::parse("pub const MTP_A: i32 = -1;").is_none(),
            "a literal stays"
        );
        assert!(CoreConst::parse("pub const MTP_A: i32 = X.code();").is_none());
        assert!(CoreConst::parse("pub const OTHER: i32 = a::B;").is_none());
    }

    #[test]
    fn literals_stay_as_written_and_expressions_become_their_value() {
        let files = core(
            "pub const SECRET_LEN: usize = 16;\n\
             const MAX_DOMAIN_LEN: usize = 253;\n\
             pub const TEXT: usize = 2 * (1 + SECRET_LEN + MAX_DOMAIN_LEN);\n\
             pub const BIG: usize = 1 << 24;\n\
             pub const ERR: i32 = -3;\n\
             pub const MAGIC: u32 = 0xefef_efef;\n",
        );
        let value = |line: &str| CoreConst::parse(line).unwrap().value(&files);
        assert_eq!(
            value("pub const MTP_T: i32 = m::TEXT as i32;").unwrap(),
            "540"
        );
        assert_eq!(
            value("pub const MTP_B: i32 = m::BIG as i32;").unwrap(),
            "1 << 24"
        );
        assert_eq!(value("pub const MTP_E: i32 = m::ERR;").unwrap(), "-3");
        assert_eq!(
            value("pub const MTP_M: u32 = m::MAGIC;").unwrap(),
            "0xefefefef"
        );
        // A value the C type cannot hold is refused, not truncated.
        assert!(value("pub const MTP_M: i32 = m::MAGIC as i32;").is_err());
        assert!(value("pub const MTP_N: i32 = m::MISSING;").is_err());
    }

    #[test]
    fn aliases_come_from_the_use_lines() {
        let map = core_aliases(
            "use mtproxy_core::net::obfs2::{self, Secret};\n\
             use mtproxy_core::net::rpc_handshake::{\n    self as hs, Role,\n};\n\
             use mtproxy_core::net::fake_tls as tls;\n\
             use mtproxy_core::common::pid;\n\
             use mtproxy_core::runtime::{policy, Domain};\n\
             use std::fmt;\n",
        );
        let path = |name: &str| map.get(name).map(|p| p.join("::"));
        assert_eq!(path("obfs2").as_deref(), Some("net::obfs2"));
        assert_eq!(path("hs").as_deref(), Some("net::rpc_handshake"));
        assert_eq!(path("tls").as_deref(), Some("net::fake_tls"));
        assert_eq!(path("pid").as_deref(), Some("common::pid"));
        assert_eq!(path("policy").as_deref(), Some("runtime::policy"));
        assert_eq!(path("fmt"), None);
    }
}

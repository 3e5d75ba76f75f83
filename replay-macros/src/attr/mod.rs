//! Parsing arguments, apart from generation: one struct for each attribute
//! (`#[deterministic(..)]`, `#[mapped(..)]`, `#[replay_runtime::test(..)]`,
//! `#[assume_deterministic(..)]`) and for each attribute they read on the
//! item (`#[out(..)]` on a parameter, `#[should_panic(..)]` on a test).
//!
//! All of them are comma-separated `name = value` or `name(..)` arguments,
//! read by `parse_args`: an unknown, repeated or malformed argument is an
//! error at its tokens saying what is accepted, and parsing goes on at the
//! next comma, so that the user sees every such error at once.

use proc_macro2::TokenStream;
use syn::{Attribute, Expr, Ident, LitStr, Path, Token};

mod pointer;
mod reader;

pub(crate) use pointer::{Direction, Len, PointerAttr, Written, is_pointer_attr};

use reader::{Accepted, as_ident, default_crate, parse_args};

use crate::Errors;

/// Arguments of `#[deterministic(...)]`.
pub(crate) struct DeterministicArgs {
    /// Where the runtime is: `::replay_runtime` unless re-exported.
    pub(crate) krate: Path,
    /// A deterministic stand-in called instead of the function in replay.
    pub(crate) replay_with: Option<Path>,
    /// The parameter holding a file path: the call runs for real in replay
    /// when the path matches the session's live-file patterns.
    pub(crate) path: Option<Ident>,
    /// Parameters that never reach the recording.
    pub(crate) secret: Vec<Ident>,
    /// The return value never reaches the recording.
    pub(crate) secret_return: Option<Token![return]>,
    /// `callback`: a Rust function foreign code calls back into.
    pub(crate) callback: Option<Ident>,
}

impl DeterministicArgs {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> DeterministicArgs {
        let mut args = DeterministicArgs {
            krate: default_crate(),
            replay_with: None,
            path: None,
            secret: Vec::new(),
            secret_return: None,
            callback: None,
        };
        let accepted = [REPLAY_WITH, PATH, SECRET, CALLBACK, CRATE];
        parse_args(tokens, &accepted, errors, |arg| {
            match arg.accepted.name {
                "crate" => args.krate = arg.path()?,
                "replay_with" => args.replay_with = Some(arg.path()?),
                "path" => args.path = Some(arg.ident()?),
                "callback" => args.callback = Some(arg.name.clone()),
                _ => {
                    let mut bad = Errors::default();
                    for name in arg.list()? {
                        match (&name, as_ident(&name)) {
                            (Expr::Return(r), _) if r.expr.is_none() => {
                                args.secret_return = Some(r.return_token);
                            }
                            (_, Some(ident)) => args.secret.push(ident),
                            _ => bad.push(syn::Error::new_spanned(
                                name,
                                "expected the name of a parameter, or `return`: \
                                 `secret(parameter, .., return)`",
                            )),
                        }
                    }
                    bad.finish()?;
                }
            }
            Ok(())
        });
        args
    }
}

/// Arguments of `#[mapped(...)]`.
pub(crate) struct MappedArgs {
    pub(crate) krate: Path,
    /// Releases a real handle's resources when it is dropped.
    pub(crate) drop: Option<Path>,
}

impl MappedArgs {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> MappedArgs {
        let mut args = MappedArgs {
            krate: default_crate(),
            drop: None,
        };
        parse_args(tokens, &[DROP, CRATE], errors, |arg| {
            match arg.accepted.name {
                "crate" => args.krate = arg.path()?,
                _ => args.drop = Some(arg.path()?),
            }
            Ok(())
        });
        args
    }
}

/// Arguments of `#[replay_runtime::test(...)]`.
pub(crate) struct TestArgs {
    pub(crate) krate: Path,
    /// The recording's file, relative to the crate, instead of the one
    /// named after the test.
    pub(crate) path: Option<LitStr>,
}

impl TestArgs {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> TestArgs {
        let mut args = TestArgs {
            krate: default_crate(),
            path: None,
        };
        parse_args(tokens, &[RECORDING, CRATE], errors, |arg| {
            match arg.accepted.name {
                "crate" => args.krate = arg.path()?,
                _ => args.path = Some(arg.str()?),
            }
            Ok(())
        });
        args
    }
}

/// Arguments of `#[assume_deterministic(...)]`: only where the runtime is.
pub(crate) struct AssumeArgs {
    pub(crate) krate: Path,
    /// `pure`: the user asserts the result depends on the arguments alone,
    /// so the function may return it.
    pub(crate) pure: bool,
}

impl AssumeArgs {
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> AssumeArgs {
        let mut args = AssumeArgs {
            krate: default_crate(),
            pure: false,
        };
        parse_args(tokens, &[PURE, CRATE], errors, |arg| {
            match arg.accepted.name {
                "crate" => args.krate = arg.path()?,
                _ => args.pure = true,
            }
            Ok(())
        });
        args
    }
}

/// `#[should_panic]`, `#[should_panic = "text"]` or
/// `#[should_panic(expected = "text")]` on a recorded test.
pub(crate) struct ShouldPanic {
    /// Text the panic's message must contain.
    pub(crate) expected: Option<LitStr>,
}

impl ShouldPanic {
    /// Finds and parses `#[should_panic]` among a test's attributes,
    /// removing it: the test checks its panic itself.
    pub(crate) fn take(attrs: &mut Vec<Attribute>) -> syn::Result<Option<ShouldPanic>> {
        let Some(index) = attrs.iter().position(|a| a.path().is_ident("should_panic")) else {
            return Ok(None);
        };
        let attr = attrs.remove(index);
        if let Some(again) = attrs.iter().find(|a| a.path().is_ident("should_panic")) {
            return Err(syn::Error::new_spanned(
                again,
                "a test takes one `#[should_panic]`",
            ));
        }
        let mut expected = None;
        match &attr.meta {
            syn::Meta::Path(_) => {}
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => expected = Some(text.clone()),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "expected `#[should_panic = \"text\"]`, with the text the panic's \
                         message must contain",
                    ));
                }
            },
            syn::Meta::List(list) => {
                let mut errors = Errors::default();
                parse_args(list.tokens.clone(), &[EXPECTED], &mut errors, |arg| {
                    expected = Some(arg.str()?);
                    Ok(())
                });
                errors.finish()?;
            }
        }
        Ok(Some(ShouldPanic { expected }))
    }
}

const CALLBACK: Accepted = Accepted {
    hint: " (an `extern \"C\" fn` foreign code calls back into)",
    ..Accepted::new("callback", "`callback`")
};
const PURE: Accepted = Accepted {
    hint: " (the result depends on the arguments alone)",
    ..Accepted::new("pure", "`pure`")
};
const CRATE: Accepted = Accepted::new("crate", "`crate = path::to::replay_runtime`");
const REPLAY_WITH: Accepted = Accepted::new("replay_with", "`replay_with = path::to::stand_in`");
const PATH: Accepted = Accepted {
    hint: ", naming the parameter that holds the file's path",
    ..Accepted::new("path", "`path = parameter`")
};
const SECRET: Accepted = Accepted::new("secret", "`secret(parameter, .., return)`");
const DROP: Accepted = Accepted::new("drop", "`drop = path::to::fn(&mut Self)`");
const RECORDING: Accepted = Accepted::new(
    "path",
    "`path = \"tests/recordings/name.replay\"` (relative to the crate)",
);
const EXPECTED: Accepted = Accepted {
    hint: ", with the text the panic's message must contain",
    ..Accepted::new("expected", "`expected = \"text\"`")
};

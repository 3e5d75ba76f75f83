//! A call site's identity: one `static` per wrapped function, named, never
//! addressed, so that a rebuilt binary with new code still matches its old
//! recordings.

use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

/// A call site's identity: one `static` per wrapped function.
///
/// The identity is a name, never an address or a `TypeId`, so a rebuilt
/// binary with new code still matches its old recordings.
#[derive(Debug)]
pub struct Site {
    /// `module::path::function`, or for methods just `method`.
    name: &'static str,
    /// For methods: `Type::method`, once the type's name is known.
    owned: Option<OnceLock<String>>,
    /// The signature as written, without parameter names.
    pub(crate) signature: &'static str,
    /// Each recorded input's position among the parameters (from 1) and
    /// name, for divergence reports.
    pub(crate) params: &'static [(u16, &'static str)],
    /// `writer serial << 32 | site number` of the writer that used it last
    /// (see `recording::writer`).
    pub(crate) cache: AtomicU64,
}

impl Site {
    /// A free function's site; `name` is its full path.
    pub const fn new(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, None, signature, params)
    }

    /// A method's site, named `Type::method` once [`Site::owner`] is called.
    pub const fn method(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, Some(OnceLock::new()), signature, params)
    }

    const fn build(
        name: &'static str,
        owned: Option<OnceLock<String>>,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site {
            name,
            owned,
            signature,
            params,
            cache: AtomicU64::new(0),
        }
    }

    /// Names the method's type (from `core::any::type_name::<Self>`, which a
    /// `static` cannot call); generic arguments are left out, so every
    /// instantiation shares one name.
    #[inline]
    pub fn owner(&'static self, type_name: fn() -> &'static str) -> &'static Site {
        if let Some(owned) = &self.owned {
            owned.get_or_init(|| {
                let owner = type_name();
                let owner = owner.split('<').next().unwrap_or(owner);
                format!("{owner}::{}", self.name)
            });
        }
        self
    }

    /// The name recorded in the file and shown in reports.
    pub(crate) fn full_name(&self) -> &str {
        match &self.owned {
            Some(owned) => owned.get().map_or(self.name, String::as_str),
            None => self.name,
        }
    }

    /// `argument 2 (`b`)`: the recorded input `index` (from 0), by its
    /// position among the parameters (from 1, as people count).
    pub(crate) fn argument(&self, index: usize) -> String {
        match self.params.get(index) {
            Some((position, name)) => format!("argument {position} (`{name}`)"),
            None => format!("argument {}", index + 1),
        }
    }

    /// The name of recorded input `index`, `_` if unknown.
    pub(crate) fn param_name(&self, index: usize) -> &'static str {
        self.params.get(index).map_or("_", |&(_, name)| name)
    }
}

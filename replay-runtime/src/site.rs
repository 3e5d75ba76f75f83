//! A call site's identity: one `static` per wrapped function, named, never
//! addressed, so that a rebuilt binary with new code still matches its old
//! recordings.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The function a patch marker is recorded as a call to: its argument is
/// the patch's name (see `call::patch`).
pub(crate) const PATCH_NAME: &str = "replay_runtime::patched";

/// A call site's identity: one `static` per wrapped function.
///
/// The identity is a name, never an address or a `TypeId`, so a rebuilt
/// binary with new code still matches its old recordings.
#[derive(Debug)]
pub struct Site {
    /// `module::path::function`, or for methods just `method`.
    name: &'static str,
    /// For methods: the `Self` type's name and `Type::method`, once known.
    owned: Option<OnceLock<(&'static str, String)>>,
    /// The signature as written, without parameter names.
    pub(crate) signature: &'static str,
    /// Each recorded input's position among the parameters (from 1) and
    /// name, for divergence reports.
    pub(crate) params: &'static [(u16, &'static str)],
    /// `writer serial << 32 | site number` of the writer that used it last
    /// (see `recording::writer`).
    pub(crate) cache: AtomicU64,
    /// A function of an extern block: callbacks foreign code makes during
    /// it are recorded nested in it (during a Rust function they are part
    /// of its body, which replay does not run).
    pub(crate) foreign: bool,
}

impl Site {
    /// A free function's site; `name` is its full path.
    pub const fn new(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, None, signature, params, false)
    }

    /// A site of a function of an `extern` block; `name` is its full path.
    pub const fn foreign(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, None, signature, params, true)
    }

    /// A method's site, named `Type::method` once [`Site::owner`] is called.
    pub const fn method(
        name: &'static str,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
    ) -> Site {
        Site::build(name, Some(OnceLock::new()), signature, params, false)
    }

    const fn build(
        name: &'static str,
        owned: Option<OnceLock<(&'static str, String)>>,
        signature: &'static str,
        params: &'static [(u16, &'static str)],
        foreign: bool,
    ) -> Site {
        Site {
            name,
            owned,
            signature,
            params,
            cache: AtomicU64::new(0),
            foreign,
        }
    }

    /// Names the method's type (from `core::any::type_name::<Self>`, which a
    /// `static` cannot call); generic arguments are left out, so every
    /// instantiation shares one name. One `static` serves every `Self` of a
    /// generic impl or a trait's provided method: the first type names it,
    /// and each other type gets a site of its own, made once.
    #[inline]
    pub fn owner(&'static self, type_name: fn() -> &'static str) -> &'static Site {
        let Some(owned) = &self.owned else {
            return self;
        };
        let ty = type_name();
        let (first, _) = owned.get_or_init(|| (ty, qualified(ty, self.name)));
        if std::ptr::eq(*first, ty) || *first == ty {
            self
        } else {
            self.for_type(ty)
        }
    }

    /// This method's site for another `Self` than the first.
    #[cold]
    fn for_type(&'static self, ty: &'static str) -> &'static Site {
        type Key = (usize, &'static str);
        static OTHERS: OnceLock<Mutex<HashMap<Key, &'static Site>>> = OnceLock::new();
        let mut others = OTHERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (self as *const Site as usize, ty);
        others.entry(key).or_insert_with(|| {
            // Leaked once per method and type: sites live as long as the
            // program, as the `static` ones do.
            Box::leak(Box::new(Site {
                owned: Some(OnceLock::from((ty, qualified(ty, self.name)))),
                ..Site::build(self.name, None, self.signature, self.params, self.foreign)
            }))
        })
    }

    /// The name recorded in the file and shown in reports.
    pub(crate) fn full_name(&self) -> &str {
        match &self.owned {
            Some(owned) => owned.get().map_or(self.name, |(_, name)| name.as_str()),
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

/// `Type::method`, from a type's full name without its generic arguments.
fn qualified(ty: &str, method: &str) -> String {
    // A tuple, array or reference is named whole: it has no path to cut.
    let owner = match ty.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        true => ty.split('<').next().unwrap_or(ty),
        false => ty,
    };
    format!("{owner}::{method}")
}

//! How strategic merge patch treats each field of a type: the `patchStrategy` and
//! `patchMergeKey` struct tags of the Kubernetes API types, as a tree of static tables.
//!
//! Only fields that need something other than the default are listed: by default an object
//! merges key by key and a list is replaced whole. Shared types (ObjectMeta, PodSpec, Container,
//! PodTemplateSpec) are one table each, referenced from every place that embeds them.

/// What a patch does to a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchStrategy {
    /// No strategy declared: a list in the patch replaces the whole list. (Objects still merge.)
    Replace,
    /// `patchStrategy:"merge"`. With a merge key, elements are objects matched by that key and
    /// merged; without one, the list holds scalars and is unioned.
    Merge { merge_key: Option<&'static str> },
}

/// One field of a type that has a declared strategy or leads to fields that do.
#[derive(Debug)]
pub struct FieldSchema {
    /// JSON name of the field.
    pub name: &'static str,
    pub strategy: PatchStrategy,
    /// `patchStrategy` includes `retainKeys`: the client sends `$retainKeys` to clear the keys it
    /// does not list (a union type such as a volume source). Applying honours `$retainKeys`
    /// wherever it appears; this flag records the API's declaration.
    pub retain_keys: bool,
    /// The type of the field's value (for a list: of each element).
    pub value: &'static TypeSchema,
}

/// The fields of one type that have patch metadata.
#[derive(Debug)]
pub struct TypeSchema {
    pub fields: &'static [FieldSchema],
}

impl TypeSchema {
    /// A type with no patch metadata anywhere below it.
    pub const PLAIN: TypeSchema = TypeSchema { fields: &[] };

    pub fn field(&self, name: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Schema for the value of `name` (default merge behaviour if the field is not listed).
    pub fn child(&self, name: &str) -> &'static TypeSchema {
        self.field(name).map_or(&TypeSchema::PLAIN, |f| f.value)
    }

    /// Strategy and merge key for the list field `name`.
    pub fn list_strategy(&self, name: &str) -> PatchStrategy {
        self.field(name)
            .map_or(PatchStrategy::Replace, |f| f.strategy)
    }
}

/// An object-valued field whose own fields have patch metadata.
pub(crate) const fn nested(name: &'static str, value: &'static TypeSchema) -> FieldSchema {
    FieldSchema {
        name,
        strategy: PatchStrategy::Replace,
        retain_keys: false,
        value,
    }
}

/// A list of objects merged by `merge_key`.
pub(crate) const fn merge_by(
    name: &'static str,
    merge_key: &'static str,
    value: &'static TypeSchema,
) -> FieldSchema {
    FieldSchema {
        name,
        strategy: PatchStrategy::Merge {
            merge_key: Some(merge_key),
        },
        retain_keys: false,
        value,
    }
}

/// A list of objects merged by `merge_key` whose elements are union types (`merge,retainKeys`).
pub(crate) const fn merge_by_retaining_keys(
    name: &'static str,
    merge_key: &'static str,
    value: &'static TypeSchema,
) -> FieldSchema {
    FieldSchema {
        name,
        strategy: PatchStrategy::Merge {
            merge_key: Some(merge_key),
        },
        retain_keys: true,
        value,
    }
}

/// A list of scalars merged as a set (`patchStrategy:"merge"`, no key).
pub(crate) const fn merge_set(name: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        strategy: PatchStrategy::Merge { merge_key: None },
        retain_keys: false,
        value: &TypeSchema::PLAIN,
    }
}

/// An object field declared `retainKeys` (a union type such as a Deployment's strategy).
pub(crate) const fn retaining_keys(name: &'static str) -> FieldSchema {
    FieldSchema {
        name,
        strategy: PatchStrategy::Replace,
        retain_keys: true,
        value: &TypeSchema::PLAIN,
    }
}

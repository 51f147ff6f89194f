/// The version a stored row had when it was read. Every write of a mutable entity is
/// conditional on it (`WHERE row_version = …`) and bumps it, so a write decided on a stale copy
/// fails with `DomainError::Stale` instead of silently undoing a concurrent change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowVersion(pub i64);

impl RowVersion {
    /// The version a successful write leaves behind.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

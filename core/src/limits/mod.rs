//! The rate limiters, each per client address and on the injected clock: sign-ins on pages
//! that take the web password, open registrations, and unlock attempts. They count and answer
//! how long to wait; they never lock anyone out for good and never know HTTP.

pub mod registrations;
pub mod sign_in;
pub mod unlock;

pub use registrations::Registrations;
pub use sign_in::SignInAttempts;
pub use unlock::UnlockBackoff;

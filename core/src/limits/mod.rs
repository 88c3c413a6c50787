//! The rate limiters, each on the injected clock: per client address, sign-ins on pages that
//! take the web password, open registrations, and unlock attempts; per vendor, offers. They
//! count and answer how long to wait; they never lock anyone out for good and never know HTTP.

pub mod offers;
pub mod registrations;
pub mod sign_in;
pub mod unlock;

pub use offers::OfferLimiter;
pub use registrations::Registrations;
pub use sign_in::SignInAttempts;
pub use unlock::UnlockBackoff;

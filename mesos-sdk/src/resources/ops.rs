//! `+`, `-`, `+=`, `-=` for [`Resources`], owned and by reference.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use super::Resources;

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, rhs: &Resources) {
        if self.items.is_empty() {
            // `rhs` is normalized already: a plain copy is the sum.
            self.items.clone_from(&rhs.items);
            return;
        }
        for r in rhs.iter() {
            self.add_normalized(r.clone());
        }
    }
}

impl AddAssign<Resources> for Resources {
    fn add_assign(&mut self, rhs: Resources) {
        if self.items.is_empty() {
            self.items = rhs.items;
            return;
        }
        for r in rhs.into_vec() {
            self.add_normalized(r);
        }
    }
}

impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, rhs: &Resources) {
        for r in rhs.iter() {
            self.sub_normalized(r);
        }
    }
}

impl SubAssign<Resources> for Resources {
    fn sub_assign(&mut self, rhs: Resources) {
        *self -= &rhs;
    }
}

impl Add<Resources> for Resources {
    type Output = Resources;
    fn add(mut self, rhs: Resources) -> Resources {
        self += rhs;
        self
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;
    fn add(mut self, rhs: &Resources) -> Resources {
        self += rhs;
        self
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, rhs: &Resources) -> Resources {
        self.clone() + rhs
    }
}

impl Add<Resources> for &Resources {
    type Output = Resources;
    fn add(self, rhs: Resources) -> Resources {
        self.clone() + rhs
    }
}

impl Sub<Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, rhs: Resources) -> Resources {
        self -= &rhs;
        self
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, rhs: &Resources) -> Resources {
        self -= rhs;
        self
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;
    fn sub(self, rhs: &Resources) -> Resources {
        self.clone() - rhs
    }
}

impl Sub<Resources> for &Resources {
    type Output = Resources;
    fn sub(self, rhs: Resources) -> Resources {
        self.clone() - &rhs
    }
}

//! The memory compiled plugin code runs from when it comes from the vault's cache.
//!
//! `Component::deserialize` copies its input into memory of wasmtime's own.
//! For a Python or JavaScript runtime (36 MB of code and data) that is a second
//! fresh 36 MB after the buffer the vault opened the code in, and on a virtual
//! machine faulting fresh pages in costs as much as decrypting them (about
//! 26 ms for 36 MB on the reference machine). So the plugin host maps the
//! memory here ([`Region`]), in huge pages where the kernel has them (a few
//! dozen faults instead of thousands), the vault opens the code straight into it, and
//! wasmtime uses it where it lies (`Component::deserialize_raw`), making its
//! text executable through [`CodeMappings`], the engine's `CustomCodeMemory`.
//!
//! A mapping is unmapped only once wasmtime is done with it. Wasmtime calls
//! `unpublish_executable` when the last reference to that code goes (an idle
//! slot of the pooling allocator can hold one after the plugin is forgotten);
//! that retires the mapping, and retired mappings are unmapped at the next
//! load. The engine holds the `CodeMappings` and so does every piece of code it
//! loaded: when the last of them goes, the remaining mappings are unmapped.
#![allow(unsafe_code)]

use std::ptr::NonNull;
use std::sync::Mutex;

use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};

/// Anonymous, private memory for one plugin's compiled code, unmapped on drop.
pub(crate) struct Region {
    ptr: NonNull<u8>,
    /// Bytes of code.
    len: usize,
    /// Bytes mapped: `len` rounded up to whole pages.
    mapped: usize,
}

// SAFETY: a Region owns its mapping outright, like a `Box<[u8]>`.
unsafe impl Send for Region {}
// SAFETY: as above; shared access is read-only.
unsafe impl Sync for Region {}

impl Region {
    /// Maps `len` bytes, in huge pages where the kernel allows. Not
    /// populated: the vault's copy into it faults the pages in on two cores
    /// (`MAP_POPULATE` does it on one, and faulting in ahead with
    /// `MADV_POPULATE_WRITE` on two measured no faster).
    pub(crate) fn new(len: usize) -> std::io::Result<Region> {
        let page = rustix::param::page_size();
        let mapped = len.max(1).div_ceil(page) * page;
        // SAFETY: a fresh anonymous mapping chosen by the kernel aliases nothing.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                mapped,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )?
        };
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        // Faulted in as 2 MiB pages where the kernel has them (transparent
        // huge pages, `madvise` mode or `always`): a Python or JavaScript
        // runtime's code is then a few dozen faults instead of nine thousand,
        // which halved its load from the cache (27 → 13 ms). Advice only: a
        // kernel without them refuses it, and the memory faults in 4 KiB
        // pages as before.
        // SAFETY: advice about this Region's own fresh mapping; no effect on its contents.
        let _ =
            unsafe { rustix::mm::madvise(ptr.as_ptr().cast(), mapped, rustix::mm::Advice::LinuxHugepage) };
        Ok(Region { ptr, len, mapped })
    }

    fn contains(&self, ptr: *const u8) -> bool {
        let start = self.ptr.as_ptr() as usize;
        (start..start + self.mapped).contains(&(ptr as usize))
    }
}

impl std::ops::Deref for Region {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes from `ptr` are mapped readable for the Region's life.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Region {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and writable until adopted (adoption consumes the Region).
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping is this Region's alone; nothing refers to it any more.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.mapped) };
    }
}

/// The engine's code memory: makes code executable, and owns the regions that
/// code loaded from the vault runs from.
#[derive(Default)]
pub(crate) struct CodeMappings {
    /// Regions wasmtime may use, and whether it is done with each.
    regions: Mutex<Vec<(Region, bool)>>,
}

impl CodeMappings {
    /// Takes `region`, holding code the vault opened into it, for wasmtime:
    /// makes it read-only and returns the memory to give to
    /// `Component::deserialize_raw`. Unmaps regions wasmtime is done with.
    pub(crate) fn adopt(&self, region: Region) -> std::io::Result<NonNull<[u8]>> {
        // SAFETY: the Region's own pages; wasmtime never writes to memory it
        // did not map (`deserialize_raw` memory is read-only to it).
        unsafe { rustix::mm::mprotect(region.ptr.as_ptr().cast(), region.mapped, MprotectFlags::READ)? };
        let code = NonNull::slice_from_raw_parts(region.ptr, region.len);
        let mut regions = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        regions.retain(|(_, retired)| !retired);
        regions.push((region, false));
        Ok(code)
    }

    /// Marks the region holding `ptr` as one wasmtime is done with (its code
    /// was unpublished, or it failed to load).
    pub(crate) fn retire(&self, ptr: *const u8) {
        let mut regions = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, retired)) = regions.iter_mut().find(|(r, _)| r.contains(ptr)) {
            *retired = true;
        }
    }

    /// Regions held: those in use and those retired but not yet unmapped.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.regions.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl wasmtime::CustomCodeMemory for CodeMappings {
    fn required_alignment(&self) -> usize {
        rustix::param::page_size()
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: wasmtime passes the page-aligned text of code it holds.
        unsafe {
            rustix::mm::mprotect(
                ptr.cast_mut().cast(),
                len,
                MprotectFlags::READ | MprotectFlags::EXEC,
            )?
        };
        Ok(())
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: as above; no code runs from it any more.
        unsafe {
            rustix::mm::mprotect(
                ptr.cast_mut().cast(),
                len,
                MprotectFlags::READ | MprotectFlags::WRITE,
            )?
        };
        self.retire(ptr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Region;

    /// The `/proc/self/smaps` entry of the mapping that holds `addr`.
    fn mapping_of(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("Linux's /proc");
        let mut found = String::new();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((from, to)) = range
                && let (Ok(from), Ok(to)) = (usize::from_str_radix(from, 16), usize::from_str_radix(to, 16))
            {
                inside = (from..to).contains(&addr);
            }
            if inside {
                found.push_str(line);
                found.push('\n');
            }
        }
        found
    }

    /// Code regions ask for huge pages. On a kernel that gives them only to
    /// memory that asks (`madvise`, the usual default) the mapping is then
    /// eligible; without the advice it is not, and loading a Python plugin's
    /// code from the cache took twice as long.
    #[test]
    fn a_code_region_asks_for_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
        let region = Region::new(8 << 20).unwrap();
        let mapping = mapping_of(region.ptr.as_ptr() as usize);
        let eligible = mapping
            .lines()
            .find_map(|l| l.strip_prefix("THPeligible:"))
            .map(str::trim);
        if mode.contains("[madvise]") || mode.contains("[always]") {
            assert_eq!(eligible, Some("1"), "{mapping}");
        } else {
            // No huge pages on this kernel: the advice changes nothing.
            assert_eq!(eligible.unwrap_or("0"), "0", "{mapping}");
        }
    }
}

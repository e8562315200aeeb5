"""The handheld pages (``/hh``): mobile-first screens for the floor that drive the staff API from the browser
(wedge scanner or camera, an offline scan queue in IndexedDB, Polish or English). See docs/handheld.md."""

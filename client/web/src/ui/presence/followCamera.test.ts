import { describe, expect, it } from "vitest";
import { cameraFollowing, docToScreen, sameCamera } from "./followCamera";

describe("cameraFollowing", () => {
  it("keeps the camera for a same-size view", () => {
    const cam = cameraFollowing({ camera: { x: 10, y: -20, zoom: 2 }, width: 800, height: 600 }, 800, 600);
    expect(cam).not.toBeNull();
    if (cam) expect(sameCamera(cam, { x: 10, y: -20, zoom: 2 })).toBe(true);
  });

  it("fits their area into a smaller view, centred", () => {
    // they see doc x 0..800, y 0..600 (zoom 1); we have 400 x 400
    const cam = cameraFollowing({ camera: { x: 0, y: 0, zoom: 1 }, width: 800, height: 600 }, 400, 400);
    expect(cam?.zoom).toBeCloseTo(0.5);
    // their centre (400, 300) lands at our centre (200, 200)
    if (cam) {
      const [sx, sy] = docToScreen(cam, 400, 300);
      expect(sx).toBeCloseTo(200);
      expect(sy).toBeCloseTo(200);
      // their corners stay visible
      const [lx, ty] = docToScreen(cam, 0, 0);
      const [rx, by] = docToScreen(cam, 800, 600);
      expect(lx).toBeGreaterThanOrEqual(-1e-9);
      expect(rx).toBeLessThanOrEqual(400 + 1e-9);
      expect(ty).toBeGreaterThanOrEqual(0);
      expect(by).toBeLessThanOrEqual(400);
    }
  });

  it("uses their zoom when our size is unknown, and rejects broken cameras", () => {
    expect(cameraFollowing({ camera: { x: 5, y: 5, zoom: 3 }, width: 100, height: 100 }, 0, 0)?.zoom).toBe(3);
    expect(cameraFollowing({ camera: { x: 5, y: 5, zoom: 0 }, width: 100, height: 100 }, 200, 200)).toBeNull();
  });
});

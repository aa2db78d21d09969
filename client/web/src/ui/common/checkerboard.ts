/** Tailwind classes for the transparency checkerboard behind thumbnails. */
export const CHECKERBOARD =
  "bg-[conic-gradient(#4a4a4a_25%,#2f2f2f_0_50%,#4a4a4a_0_75%,#2f2f2f_0)] bg-[length:10px_10px]";

/** The same, finer, for layer thumbnails. */
export const CHECKERBOARD_SMALL =
  "bg-[conic-gradient(#4a4a4a_25%,#2f2f2f_0_50%,#4a4a4a_0_75%,#2f2f2f_0)] bg-[length:6px_6px]";

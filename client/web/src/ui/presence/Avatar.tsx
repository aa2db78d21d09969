import { initials, textOn } from "../common/userColor";

export interface AvatarProps {
  name: string;
  color: string;
  /** a ring in the person's colour (we follow them) */
  ring?: boolean;
  size?: number;
}

/** Initials in a coloured circle. */
export function Avatar({ name, color, ring = false, size = 24 }: AvatarProps) {
  return (
    <span
      aria-hidden="true"
      className="inline-flex shrink-0 select-none items-center justify-center rounded-full border-2 border-neutral-800 text-[10px] font-semibold"
      style={{
        width: size,
        height: size,
        backgroundColor: color,
        color: textOn(color),
        boxShadow: ring ? `0 0 0 2px ${color}` : undefined,
      }}
    >
      {initials(name)}
    </span>
  );
}

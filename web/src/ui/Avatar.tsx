import { useStore } from "../store";

// A person's XEP-0084 avatar, or their initial on a coloured disc.
export function Avatar({ jid, size = 40 }: { jid: string; size?: number }) {
  const st = useStore();
  const p = st.profiles.get(jid);
  const label = p?.fn || p?.nickname || jid;
  if (p?.avatar) return <img class="avatar" src={p.avatar} width={size} height={size} alt="" />;
  let hue = 0;
  for (const c of jid) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  return (
    <span class="avatar initial" aria-hidden="true" style={{ width: size, height: size, background: `hsl(${hue} 45% 45%)` }}>
      {label.slice(0, 1).toUpperCase()}
    </span>
  );
}

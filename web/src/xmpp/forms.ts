// XEP-0004 data forms, as far as the app submits them (MAM queries, publish-options).
import { xml, type Element } from "@xmpp/client";

// A field's value, several values (a list-multi or text-multi field), or nothing (the field is left out).
export function submitForm(formType: string, fields: Record<string, string | string[] | undefined>): Element {
  const x = xml("x", { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, formType)));
  for (const [k, v] of Object.entries(fields))
    if (v !== undefined) x.append(xml("field", { var: k }, ...(Array.isArray(v) ? v : [v]).map((one) => xml("value", {}, one))));
  return x;
}

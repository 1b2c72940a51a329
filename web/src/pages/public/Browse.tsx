// PLACEHOLDER page: public/Browse
import { Card } from "../../ui";

export default function Browse() {
  return <Card><h1>Browse</h1></Card>;
}

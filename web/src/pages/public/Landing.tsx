// PLACEHOLDER page: public/Landing
import { Card } from "../../ui";

export default function Landing() {
  return <Card><h1>Landing</h1></Card>;
}

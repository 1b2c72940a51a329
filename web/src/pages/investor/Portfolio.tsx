// PLACEHOLDER page: investor/Portfolio
import { Card } from "../../ui";

export default function Portfolio() {
  return <Card><h1>Portfolio</h1></Card>;
}
